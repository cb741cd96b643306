package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One kernel's burst does not keep another kernel's keepalive waiting behind it (docs/limits.md:
 * the xpprobe's 65,536 back-to-back lock_futex held other kernels' keepalives 2.2-2.6 s on the
 * pager's loop, against a 2 s lease). Counted, no timing: how many of the burst's messages the
 * core handles before the keepalive that arrived with them.
 *
 * <p>The loop is modelled as gRPC over Netty runs it with the direct executor: each pass reads
 * every connection in turn and hands its stream every whole message it has requested (with
 * automatic flow control, one more after each, so all that arrived), then runs the tasks
 * scheduled before the pass's task phase; a task scheduled by a task waits for the next pass
 * (Netty takes due scheduled tasks once, at the start of the task phase). The old XpService left
 * flow control automatic: the whole burst was handled before the keepalive.
 */
class BurstTurnsTest {
    private static final int PAGE = 4096;
    private static final int BURST = 65_536;

    private final List<Runnable> tasks = new ArrayList<>();
    private final List<Call> connections = new ArrayList<>();
    private final XpService xp = new XpService();
    private final StreamTurns turns = new StreamTurns(StreamTurns.DEFAULT_MESSAGES_PER_TURN, tasks::add);
    /** Every message the core was handed, in order: "A" for the burst's, "B keepalive" and so on. */
    private final List<String> handled = new ArrayList<>();

    BurstTurnsTest() {
        PagerCore core = new PagerCore("p", PAGE, new ObjectCatalog(Map.of("obj", (long) BURST * 4), PAGE,
                new MemoryPageStore()), new PagerEnv() {
                    @Override
                    public void send(long sessionId, PagerToKernel message) {
                        xp.send(sessionId, message);
                    }

                    @Override
                    public void endSession(long sessionId, Errno errno, String message) {
                        xp.endSession(sessionId, errno, message);
                    }
                }, new PagerStats());
        xp.attach(core, null, turns);
    }

    @Test
    void aKeepaliveArrivingWithABurstIsHandledAfterAtMostOneTurnOfIt() {
        Call a = kernel("A");
        Call b = kernel("B");
        for (int i = 0; i < BURST; i++) {
            a.arrive(lockFutex(4L * i));
        }
        b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)).build());
        while (!handled.contains("B keepalive")) {
            pass();
        }
        long burstFirst = handled.subList(0, handled.indexOf("B keepalive")).stream().filter("A"::equals).count();
        // Old: 65,536 (every lock_futex that had arrived, in one read of A's connection).
        assertThat(burstFirst).as("lock_futex of A handled before B's keepalive")
                .isLessThanOrEqualTo(StreamTurns.DEFAULT_MESSAGES_PER_TURN);
        assertThat(b.answers).anyMatch(PagerToKernel::hasPagerKeepalive);

        while (a.waiting() > 0) {
            pass(); // the rest of the burst, a turn per pass: nothing lost, nothing handled twice
        }
        assertThat(handled.stream().filter("A"::equals).count()).isEqualTo(BURST);
        assertThat(a.answers.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).count()).isEqualTo(BURST);
        assertThat(tasks).isEmpty();
        assertThat(turns.waiting()).isZero();
    }

    @Test
    void twoBurstsTakeTurnsAndAThirdKernelIsHeardEveryPass() {
        Call a = kernel("A");
        Call c = kernel("C");
        Call b = kernel("B");
        for (int i = 0; i < BURST / 2; i++) {
            a.arrive(lockFutex(4L * i));
            c.arrive(lockFutex(4L * (BURST / 2 + i)));
        }
        for (int pass = 1; pass <= 64; pass++) {
            b.arrive(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(pass))
                    .build());
            int before = handled.size();
            pass();
            List<String> thisPass = handled.subList(before, handled.size());
            assertThat(thisPass).as("pass %d", pass).contains("B keepalive");
            // Each burst at most a turn when its connection is read and one when the turn task runs.
            assertThat(thisPass.stream().filter("A"::equals).count()).as("A in pass %d", pass)
                    .isLessThanOrEqualTo(2L * StreamTurns.DEFAULT_MESSAGES_PER_TURN);
            assertThat(thisPass.stream().filter("C"::equals).count()).as("C in pass %d", pass)
                    .isLessThanOrEqualTo(2L * StreamTurns.DEFAULT_MESSAGES_PER_TURN);
        }
        long fromA = handled.stream().filter("A"::equals).count();
        long fromC = handled.stream().filter("C"::equals).count();
        assertThat(Math.abs(fromA - fromC)).as("round-robin: A %d, C %d", fromA, fromC)
                .isLessThanOrEqualTo(StreamTurns.DEFAULT_MESSAGES_PER_TURN);
        assertThat(fromA).isGreaterThan(0);
    }

    @Test
    void aKernelAtANormalRateNeverWaitsForATurnTask() {
        Call a = kernel("A");
        for (int i = 0; i < 1000; i++) {
            a.arrive(lockFutex(4L * i));
            int before = handled.size();
            pass();
            assertThat(handled.size() - before).as("message %d handled in the pass it arrived in", i).isEqualTo(1);
        }
    }

    // ---- the modelled loop ---------------------------------------------------------------------

    /** One pass of the loop: every connection read in turn, then the tasks due. */
    private void pass() {
        for (Call c : connections) {
            c.deliver();
        }
        List<Runnable> due = new ArrayList<>(tasks);
        tasks.clear();
        due.forEach(Runnable::run);
    }

    private Call kernel(String name) {
        Call c = new Call(name);
        connections.add(c);
        c.listener = xp.connect(c);
        if (c.auto) {
            c.request(1); // what gRPC's ServerCalls does after the method returns
        }
        c.arrive(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)).build());
        c.arrive(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                .setName("obj").setPageSize(PAGE)).build());
        while (c.waiting() > 0) {
            pass();
        }
        assertThat(c.answers).hasSize(2); // welcome, ready
        return c;
    }

    private static KernelToPager lockFutex(long offset) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(1)
                .setOffset(offset)).build();
    }

    /**
     * A kernel's call as gRPC's server side runs it on the loop: what arrived is handed over while
     * requested (automatically one more after each, unless the service disabled that).
     */
    private final class Call extends NoopServerCall<PagerToKernel> {
        final String name;
        final ArrayDeque<KernelToPager> arrived = new ArrayDeque<>();
        final List<PagerToKernel> answers = new ArrayList<>();
        StreamObserver<KernelToPager> listener;
        boolean auto = true;
        int requested;
        boolean delivering;

        Call(String name) {
            this.name = name;
        }

        void arrive(KernelToPager m) {
            arrived.add(m);
        }

        int waiting() {
            return arrived.size();
        }

        @Override
        public void disableAutoRequest() {
            auto = false;
        }

        @Override
        public void request(int count) {
            requested += count;
            deliver(); // gRPC's deframer hands over at once what it holds (not reentrantly)
        }

        void deliver() {
            if (delivering || listener == null) {
                return;
            }
            delivering = true;
            try {
                while (requested > 0 && !arrived.isEmpty()) {
                    requested--;
                    KernelToPager m = arrived.poll();
                    handled.add(m.hasMemoryObjectLockFutex() ? name : name + " " + m.getRoutineCase().name().toLowerCase()
                            .replace("kernel_", ""));
                    listener.onNext(m);
                    if (auto) {
                        requested++;
                    }
                }
            } finally {
                delivering = false;
            }
        }

        @Override
        public void onNext(PagerToKernel value) {
            answers.add(value);
        }
    }
}
