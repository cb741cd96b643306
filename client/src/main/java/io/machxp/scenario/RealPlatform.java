package io.machxp.scenario;

import io.machxp.client.KernelClient;
import io.machxp.client.MachxpException;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmTrylockFutexReply;
import io.machxp.scenario.Scenario.ThreadSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs a scenario for real: an embedded pager and kernels in this JVM on loopback gRPC, each
 * scenario thread a Java thread of its own making blocking calls through the client library, in
 * real time. Times are measured from the end of setup; kernel events come from the kernels'
 * trace listeners.
 */
final class RealPlatform implements Platform {
    private static final String WARMUP_OBJECT = "machxp.warmup";
    private static final int WARMUP_ROUNDS = 100;
    private EmbeddedCluster cluster;
    private final List<KernelClient> clients = new ArrayList<>();
    private final Map<String, Ref> threads = new HashMap<>();
    private WordValues values;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("scenario-timer"));
    private final Object progress = new Object();
    private volatile long origin = System.nanoTime();

    private record Ref(TaskClient task, ThreadClient thread, Map<String, Long> addresses, ExecutorService runner) {}

    @Override
    public void setup(Scenario s, boolean pi, EventLog log) {
        if (LinuxSupport.usesIpc(s)) {
            throw new ScenarioException("the scenario has Mach IPC steps, which run in sim mode only for now: the real "
                    + "mode's kernels are not linked for IPC yet (docs/mach-ipc.md); run it with --mode sim");
        }
        Map<String, CoreOptions> kernels = new LinkedHashMap<>();
        s.kernels().forEach(k -> kernels.put(k.name(), CoreOptions.DEFAULT.withCpus(k.cpus()).withPriorityInheritance(pi)));
        Map<String, Long> objects = new LinkedHashMap<>(s.objects());
        objects.putIfAbsent(WARMUP_OBJECT, 4096L);
        try {
            cluster = EmbeddedCluster.start(kernels, objects, s.pagers());
        } catch (IOException e) {
            throw new ScenarioException("cannot start the embedded pager and kernels: " + e.getMessage());
        }
        Map<String, KernelClient> byKernel = new HashMap<>();
        for (Kernel k : cluster.kernels()) {
            KernelClient c = KernelClient.connect("127.0.0.1:" + k.port());
            clients.add(c);
            byKernel.put(k.name(), c);
        }
        warmUp(byKernel);
        for (Kernel k : cluster.kernels()) {
            k.onTrace((event, tid, detail) -> log.kernelEvent(now(), k.name(), event, tid, detail));
        }
        Map<String, TaskClient> tasks = new HashMap<>();
        Map<String, Map<String, Long>> addressesByTask = new HashMap<>();
        for (ThreadSpec t : s.threads()) {
            String key = t.kernel() + "/" + t.task();
            TaskClient task = tasks.get(key);
            if (task == null) {
                task = byKernel.get(t.kernel()).taskCreate(t.task());
                tasks.put(key, task);
                Map<String, Long> bases = new HashMap<>();
                for (String object : s.objects().keySet()) {
                    bases.put(object, task.vmMap(object));
                }
                addressesByTask.put(key, s.wordAddresses(bases));
            }
            ThreadClient thread = task.threadCreate(t.priority());
            log.name(thread.tid(), t.name());
            threads.put(t.name(), new Ref(task, thread, addressesByTask.get(key),
                    Executors.newSingleThreadExecutor(daemon("scenario-" + t.name()))));
        }
        Map<Integer, String> names = new HashMap<>();
        threads.forEach((name, ref) -> names.put(ref.thread().tid(), name));
        values = new WordValues(s, names);
        // Start every scenario thread's Java thread now, not at its first step.
        List<java.util.concurrent.Future<?>> started = new ArrayList<>();
        threads.values().forEach(r -> started.add(r.runner().submit(() -> { })));
        started.add(timer.submit(() -> { }));
        for (java.util.concurrent.Future<?> f : started) {
            try {
                f.get();
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("cannot start the scenario's threads", e);
            }
        }
        origin = System.nanoTime();
    }

    /**
     * A fresh JVM takes its first calls slowly (class loading, the JIT): milliseconds per XP
     * message, more than the steps of a scenario are apart. So before time 0 the kernels run the
     * paths a scenario takes, on an object the scenario does not use: a low-priority thread holds a
     * futex and dirties its page, a high-priority thread on the next kernel waits for it (the page
     * moves, relinquish_futex boosts the holder), the holder computes and unlocks, and the waiter
     * gets the futex.
     */
    private static void warmUp(Map<String, KernelClient> kernels) {
        List<ThreadClient> low = new ArrayList<>();
        List<ThreadClient> high = new ArrayList<>();
        List<TaskClient> tasks = new ArrayList<>();
        List<Long> addresses = new ArrayList<>();
        for (KernelClient k : kernels.values()) {
            TaskClient task = k.taskCreate("warm-up");
            tasks.add(task);
            addresses.add(task.vmMap(WARMUP_OBJECT));
            low.add(task.threadCreate(10));
            high.add(task.threadCreate(90));
        }
        ExecutorService waiter = Executors.newSingleThreadExecutor(daemon("scenario-warm-up"));
        try {
            int n = low.size();
            for (int round = 0; round < WARMUP_ROUNDS; round++) {
                int holder = round % n;
                int other = (round + 1) % n;
                ThreadClient owner = low.get(holder);
                owner.lockFutex(addresses.get(holder));
                tasks.get(holder).writeLong(addresses.get(holder) + 8, round);
                ThreadClient h = high.get(other);
                long at = addresses.get(other);
                java.util.concurrent.Future<?> waited = waiter.submit(() -> {
                    h.lockFutex(at);
                    tasks.get(other).readLong(at + 8);
                    h.unlockFutex(at);
                });
                owner.compute(Duration.ofMillis(1));
                owner.unlockFutex(addresses.get(holder));
                waited.get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ScenarioException("interrupted while warming up the kernels");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new ScenarioException("the kernels failed while warming up: " + e);
        } finally {
            waiter.shutdownNow();
        }
        tasks.forEach(TaskClient::terminate);
        System.gc(); // not in the middle of the run
    }

    @Override
    public int tid(String thread) {
        return threads.get(thread).thread().tid();
    }

    @Override
    public long now() {
        return System.nanoTime() - origin;
    }

    @Override
    public void start(String thread, long time, Runnable action) {
        Ref r = threads.get(thread);
        timer.schedule(() -> r.runner().execute(action), Math.max(0, time - now()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void call(String thread, Step step, Consumer<Outcome> done) {
        Ref r = threads.get(thread);
        try {
            r.runner().execute(() -> {
                Outcome o = perform(r, step);
                done.accept(o);
                synchronized (progress) {
                    progress.notifyAll();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the run ended at its limit while this thread was still going
        }
    }

    private Outcome perform(Ref r, Step step) {
        ThreadClient t = r.thread();
        Long address = step.word() == null || step.kind() == Step.Kind.PRIORITY ? null : r.addresses().get(step.word());
        try {
            switch (step.kind()) {
                case LOCK -> {
                    VmLockFutexReply reply = t.lock(address, step.nanos() >= 0 ? Duration.ofNanos(step.nanos()) : null);
                    return Outcomes.acquired(reply.getPath(), reply.getOwnerDied());
                }
                case TRYLOCK -> {
                    VmTrylockFutexReply reply = t.trylock(address);
                    return reply.getAcquired() ? Outcomes.acquired(reply.getPath(), reply.getOwnerDied())
                            : new Outcome("busy", "");
                }
                case UNLOCK -> t.unlockFutex(address);
                case CONSISTENT -> t.markConsistent(address);
                case COMPUTE -> t.compute(Duration.ofNanos(step.nanos()));
                case SLEEP -> t.sleep(Duration.ofNanos(step.nanos()));
                case READ -> {
                    return Outcome.ok(values.render(step.word(), r.task().readInt(address)));
                }
                case WRITE -> r.task().vmWrite(address, Outcomes.word((int) step.value()));
                case PRIORITY -> (step.word() == null ? t : threads.get(step.word()).thread()).setPriority((int) step.value());
                case EXIT -> t.terminate();
                case DIE -> r.task().terminate();
            }
            return Outcome.ok("");
        } catch (MachxpException e) {
            Outcome o = new Outcome(e.errno().name(), e.getMessage());
            if (o.code().equals("ESRCH") && step.kind() != Step.Kind.EXIT && step.kind() != Step.Kind.DIE) {
                endAtEsrch(t);
            }
            return o;
        }
    }

    /**
     * The interpreter ends a thread's program at ESRCH (ScenarioRun); as in sim mode
     * (SimPlatform.endsAtEsrch) and linux mode (LinuxWorker), the kernel thread ends too, before the
     * answer: its futexes pass on as at any exit, and a later priority step of it is ESRCH.
     */
    private static void endAtEsrch(ThreadClient t) {
        try {
            t.terminate();
        } catch (RuntimeException gone) {
            // gone already (its task died) or the kernel refused: the program ends either way
        }
    }

    @Override
    public boolean runUntil(BooleanSupplier finished, long limit) {
        synchronized (progress) {
            while (!finished.getAsBoolean()) {
                long left = limit - now();
                if (left <= 0) {
                    return false;
                }
                try {
                    progress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public String mode() {
        return "real";
    }

    @Override
    public void close() {
        timer.shutdownNow();
        threads.values().forEach(r -> r.runner().shutdownNow());
        clients.forEach(KernelClient::close);
        if (cluster != null) {
            cluster.close();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return new io.netty.util.concurrent.DefaultThreadFactory(name, true);
    }
}
