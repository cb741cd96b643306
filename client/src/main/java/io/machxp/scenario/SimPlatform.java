package io.machxp.scenario;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.scenario.Scenario.ThreadSpec;
import io.machxp.sim.SimCluster;
import io.machxp.sim.SimIpc;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs a scenario in virtual time on a {@link SimCluster}: the real kernel and pager cores, XP
 * messages delivered after the scenario's latency (plus seeded jitter), no wall clock. Calls go
 * straight to the kernel core (the fast path is an optimization of the real runtime only, and
 * the core takes a free cached futex the same way), and every answer comes back as an event. The
 * kernels' IPC cores are joined by {@link SimIpc} with the scenario's latency; IPC steps run in
 * {@link SimIpcSteps}.
 */
final class SimPlatform implements Platform {
    /** The CPU a call takes before it acts (a futex or memory syscall), in virtual time. */
    static final long SYSCALL_NANOS = 1_000;

    private final long seed;
    private SimCluster cluster;
    /** Virtual time when setup ended: scenario time 0. */
    private long origin;
    private final Map<String, Ref> threads = new HashMap<>();
    private WordValues values;
    private final SimIpcSteps ipcSteps = new SimIpcSteps();

    /** A scenario thread as the kernel knows it. */
    private record Ref(KernelCore core, long task, int tid, Map<String, Long> addresses) {}

    private final io.machxp.trace.XpTrace trace;
    /** The protocol variant the kernels and the pager run (the workbench's), or null: the default. */
    private io.machxp.variant.Variant variant;

    /** Runs the scenario under {@code v} (before {@link #setup}). */
    SimPlatform variant(io.machxp.variant.Variant v) {
        this.variant = v;
        return this;
    }

    SimPlatform(long seed, io.machxp.trace.XpTrace trace) {
        this.seed = seed;
        this.trace = trace;
    }

    /** Virtual time of scenario time 0 (the end of setup). */
    long origin() {
        return origin;
    }

    @Override
    public void setup(Scenario s, boolean pi, EventLog log) {
        cluster = new SimCluster(new SimCluster.Options(seed, s.latencyNanos(), s.jitterNanos(), 4096), s.objects(),
                s.pagers(), (time, kernel, event, tid, detail) -> log.kernelEvent(time - origin, kernel, event, tid, detail));
        if (trace != null) {
            trace.attach(cluster);
        }
        CoreOptions options = CoreOptions.DEFAULT;
        if (variant != null) {
            variant.apply(cluster);
            options = variant.apply(options);
        }
        for (Scenario.KernelSpec k : s.kernels()) {
            cluster.addKernel(k.name(), options.withCpus(k.cpus()).withPriorityInheritance(pi));
        }
        settle();
        SimIpc ipc = new SimIpc(cluster, s.latencyNanos(), s.jitterNanos(), seed);
        s.kernels().forEach(k -> ipc.join(k.name()));
        Map<String, MachTask> tasks = new HashMap<>();
        Map<String, Map<String, Long>> mapped = new HashMap<>();
        for (ThreadSpec t : s.threads()) {
            KernelCore core = cluster.kernel(t.kernel()).core;
            String taskKey = t.kernel() + "/" + t.task();
            MachTask task = tasks.get(taskKey);
            if (task == null) {
                task = await(r -> core.taskCreate(t.task(), r), "task_create for " + t.name());
                tasks.put(taskKey, task);
                ipcSteps.addTask(new SimIpcSteps.TaskRef(core, task.id));
                Map<String, Long> objectBase = new HashMap<>();
                for (String object : s.objects().keySet()) {
                    MachTask tk = task;
                    VmMapping m = await(r -> core.vmMap(tk.id, object, r), "vm_map of " + object);
                    objectBase.put(object, m.start());
                }
                mapped.put(taskKey, s.wordAddresses(objectBase));
            }
            MachTask tk = task;
            MachThread thread = await(r -> core.threadCreate(tk.id, t.priority(), r), "thread_create for " + t.name());
            log.name(thread.tid, t.name());
            threads.put(t.name(), new Ref(core, task.id, thread.tid, mapped.get(taskKey)));
        }
        Map<Integer, String> names = new HashMap<>();
        threads.forEach((name, ref) -> names.put(ref.tid(), name));
        values = new WordValues(s, names);
        origin = cluster.now();
    }

    /** Runs a setup call to its answer (the queue runs meanwhile, so XP round trips complete). */
    private <T> T await(Consumer<Reply<T>> call, String what) {
        Object[] box = new Object[1];
        KernelError[] error = new KernelError[1];
        boolean[] done = new boolean[1];
        call.accept(new Reply<>() {
            @Override
            public void complete(T value) {
                box[0] = value;
                done[0] = true;
            }

            @Override
            public void fail(KernelError e) {
                error[0] = e;
                done[0] = true;
            }
        });
        while (!done[0] && cluster.step()) {
            // run the simulation until the answer comes
        }
        if (!done[0] || error[0] != null) {
            throw new ScenarioException(what + " failed in the simulator: "
                    + (error[0] == null ? "no answer" : error[0].errno() + ": " + error[0].message()));
        }
        @SuppressWarnings("unchecked")
        T value = (T) box[0];
        return value;
    }

    private void settle() {
        while (cluster.step()) {
            // sessions open: hello, welcome
        }
    }

    @Override
    public int tid(String thread) {
        return threads.get(thread).tid();
    }

    @Override
    public long now() {
        return cluster.now() - origin;
    }

    @Override
    public void start(String thread, long time, Runnable action) {
        cluster.at(origin + time, action);
    }

    @Override
    public void call(String thread, Step step, Consumer<Outcome> done) {
        if (step.kind() == Step.Kind.COMPUTE) {
            perform(thread, step, done);
            return;
        }
        // A thread acts only on its CPU (SCHED_FIFO): every call first takes a syscall's cost of
        // CPU, so a thread whose CPU a higher priority holds does nothing until it gets it.
        Ref t = threads.get(thread);
        t.core().threadCompute(t.task(), t.tid(), SYSCALL_NANOS, new Reply<Void>() {
            @Override
            public void complete(Void value) {
                cluster.at(cluster.now(), () -> perform(thread, step, done));
            }

            @Override
            public void fail(KernelError error) {
                Outcome o = new Outcome(error.errno().name(), error.message());
                cluster.at(cluster.now(), () -> done.accept(o));
            }
        });
    }

    private void perform(String thread, Step step, Consumer<Outcome> answered) {
        Ref t = threads.get(thread);
        Consumer<Outcome> done = step.kind() == Step.Kind.EXIT || step.kind() == Step.Kind.DIE ? answered
                : o -> endsAtEsrch(t, o, answered);
        KernelCore k = t.core();
        Long address = step.word() == null || step.kind() == Step.Kind.PRIORITY ? null : t.addresses().get(step.word());
        switch (step.kind()) {
            case LOCK -> k.vmLockFutex(t.task(), t.tid(), address, step.nanos(), answer(done, Outcomes::acquired));
            case TRYLOCK -> k.vmTrylockFutex(t.task(), t.tid(), address, answer(done, Outcomes::acquired));
            case UNLOCK -> k.vmUnlockFutex(t.task(), t.tid(), address, answer(done, v -> Outcome.ok("")));
            case CONSISTENT -> k.vmFutexConsistent(t.task(), t.tid(), address, answer(done, v -> Outcome.ok("")));
            case COMPUTE -> k.threadCompute(t.task(), t.tid(), step.nanos(), answer(done, v -> Outcome.ok("")));
            case SLEEP -> k.threadSleep(t.task(), t.tid(), step.nanos(), answer(done, v -> Outcome.ok("")));
            case READ -> k.vmRead(t.task(), address, 4, answer(done, (byte[] b) -> Outcomes.read(values, step.word(), b)));
            case WRITE -> k.vmWrite(t.task(), address, Outcomes.word((int) step.value()), answer(done, v -> Outcome.ok("")));
            case PRIORITY -> {
                Ref of = step.word() == null ? t : threads.get(step.word()); // another thread's: on its kernel
                of.core().threadSetPriority(of.task(), of.tid(), (int) step.value(), answer(done, v -> Outcome.ok("")));
            }
            case EXIT -> k.threadTerminate(t.task(), t.tid(), answer(done, v -> Outcome.ok("")));
            case DIE -> k.taskTerminate(t.task(), "the task died", answer(done, v -> Outcome.ok("")));
            case PORT_ALLOCATE, SEND, RECEIVE, RPC -> ipcSteps.perform(new SimIpcSteps.TaskRef(k, t.task()), t.tid(),
                    step, o -> cluster.at(cluster.now(), () -> done.accept(o)));
        }
    }

    /**
     * The interpreter ends a thread's program at ESRCH (ScenarioRun), and linux mode's thread then
     * ends (LinuxWorker); so here the kernel thread ends too, before the answer, when it is still
     * there (a priority step of a thread that had ended, a lock of a word with the TID of no thread):
     * its futexes pass on as at any exit, and a later priority step of it is ESRCH, as on Linux.
     */
    private void endsAtEsrch(Ref t, Outcome o, Consumer<Outcome> done) {
        if (!o.code().equals("ESRCH")) {
            done.accept(o);
            return;
        }
        t.core().threadTerminate(t.task(), t.tid(), new Reply<Void>() {
            @Override
            public void complete(Void value) {
                cluster.at(cluster.now(), () -> done.accept(o));
            }

            @Override
            public void fail(KernelError error) {
                cluster.at(cluster.now(), () -> done.accept(o)); // gone already (its task died)
            }
        });
    }

    /** Answers arrive as events at the current time: never inside the call, always in order. */
    private <T> Reply<T> answer(Consumer<Outcome> done, Function<T, Outcome> toOutcome) {
        return new Reply<>() {
            @Override
            public void complete(T value) {
                Outcome o = toOutcome.apply(value);
                cluster.at(cluster.now(), () -> done.accept(o));
            }

            @Override
            public void fail(KernelError error) {
                Outcome o = new Outcome(error.errno().name(), error.message());
                cluster.at(cluster.now(), () -> done.accept(o));
            }
        };
    }

    @Override
    public boolean runUntil(BooleanSupplier finished, long limit) {
        while (!finished.getAsBoolean()) {
            long next = cluster.nextEventTime();
            if (next < 0 || next - origin > limit) {
                return false;
            }
            cluster.step();
        }
        return true;
    }

    @Override
    public String mode() {
        return "sim";
    }

    @Override
    public void close() {
        // nothing outside this object
    }

}
