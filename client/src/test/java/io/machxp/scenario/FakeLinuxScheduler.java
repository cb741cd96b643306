package io.machxp.scenario;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/** A {@link LinuxScheduler} that records each call ("ordinary 101", "pin 101 [0, 1]", ...) and changes nothing. */
final class FakeLinuxScheduler implements LinuxScheduler {
    final List<String> calls = new CopyOnWriteArrayList<>();
    /** The policy each TID reports (absent: -1, the thread ended). */
    final Map<Integer, Integer> policies = new ConcurrentHashMap<>();
    /** Whether makeOrdinary changes the reported policy (false: Linux refused it). */
    volatile boolean demotionWorks = true;
    final CountDownLatch killed = new CountDownLatch(1);
    volatile String killedWhy;
    volatile String preparedKillMessage;

    @Override
    public int makeOrdinary(int tid) {
        calls.add("ordinary " + tid);
        if (demotionWorks && policies.containsKey(tid)) {
            policies.put(tid, LinuxNative.SCHED_OTHER);
        }
        return 0;
    }

    @Override
    public int makeRealTime(int priority) {
        calls.add("realtime " + priority);
        return 0;
    }

    @Override
    public int pin(int tid, int[] cpus) {
        calls.add("pin " + tid + " " + Arrays.toString(cpus));
        return 0;
    }

    @Override
    public int policy(int tid) {
        return policies.getOrDefault(tid, -1);
    }

    /**
     * Prepared calls that record as the others do ("kill" for killProcess, its message in
     * {@link #killedWhy}); the message is in {@link #preparedKillMessage} from now on.
     */
    @Override
    public Prepared prepare(int[] cpus, String killMessage) {
        preparedKillMessage = killMessage;
        return new Prepared() {
            @Override
            public int makeOrdinary(int tid) {
                return FakeLinuxScheduler.this.makeOrdinary(tid);
            }

            @Override
            public int pin(int tid) {
                return FakeLinuxScheduler.this.pin(tid, cpus);
            }

            @Override
            public void killProcess() {
                calls.add("kill");
                killedWhy = killMessage;
                killed.countDown();
            }
        };
    }
}
