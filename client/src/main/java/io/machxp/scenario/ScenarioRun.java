package io.machxp.scenario;

import io.machxp.scenario.Scenario.ThreadSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a scenario's thread programs on a {@link Platform} and checks what was expected.
 *
 * <h2>Overview</h2>
 * Each thread starts at its start time and runs its steps one after another: a step is asked
 * (an event), answered (an event with its outcome), and the next one is asked. A program that
 * ends without exit or die ends with an implicit exit, so a futex still held passes on with
 * OWNER_DIED as for any thread that ends. A thread whose task died (a step answered ESRCH after a
 * die of a thread of the same task) ends there. A thread's wait is the time its lock, trylock and rpc steps took.
 * The run ends when every thread has ended, or at the scenario's limit.
 */
public final class ScenarioRun {
    /** The priority a boost, deboost or instant-boost event's detail goes to (its first "-> P"). */
    static final Pattern TO_PRIORITY = Pattern.compile("-> (\\d+)");

    private ScenarioRun() {}

    /** Runs {@code scenario} in sim mode with {@code seed}. */
    public static ScenarioResult sim(Scenario scenario, long seed, boolean pi) {
        return sim(scenario, seed, pi, (io.machxp.trace.XpTrace) null);
    }

    /** Runs {@code scenario} in sim mode with {@code seed} under a protocol variant of the workbench. */
    public static ScenarioResult sim(Scenario scenario, long seed, boolean pi, io.machxp.variant.Variant variant) {
        return sim(scenario, seed, pi, variant, null);
    }

    /**
     * Runs {@code scenario} in sim mode with {@code seed}, recording into {@code trace} (if not null)
     * every XP message and every event of the run, in the simulator's virtual time.
     */
    public static ScenarioResult sim(Scenario scenario, long seed, boolean pi, io.machxp.trace.XpTrace trace) {
        return sim(scenario, seed, pi, null, trace);
    }

    /**
     * Runs {@code scenario} in sim mode with {@code seed} under {@code variant} (null: the default
     * protocol), recording into {@code trace} (if not null) as above.
     */
    public static ScenarioResult sim(Scenario scenario, long seed, boolean pi, io.machxp.variant.Variant variant,
            io.machxp.trace.XpTrace trace) {
        try (SimPlatform p = variant == null ? new SimPlatform(seed, trace) : new SimPlatform(seed, trace).variant(variant)) {
            ScenarioResult result = run(scenario, p, pi, seed);
            if (trace != null) {
                trace.origin(p.origin());
                trace.title(scenario.name() + " (sim, seed " + seed + (pi ? "" : ", no PI") + ")");
                result.events().forEach(e -> trace.mark(p.origin() + e.time(), e.kernel(), e.thread(), e.event(),
                        e.detail()));
            }
            return result;
        }
    }

    /** Runs {@code scenario} in real mode: an embedded pager and kernels on loopback gRPC. */
    public static ScenarioResult real(Scenario scenario, boolean pi) {
        try (RealPlatform p = new RealPlatform()) {
            return run(scenario, p, pi, -1);
        }
    }

    /**
     * Runs {@code scenario} on this Linux host: real SCHED_FIFO threads on PI futexes and robust
     * pthread mutexes (see {@link LinuxPlatform}).
     *
     * @throws NotSupportedHere when this machine cannot (no SCHED_FIFO, too few CPUs, ...)
     */
    public static ScenarioResult linux(Scenario scenario) {
        return linuxTimed(scenario).result();
    }

    /** A linux-mode run and its threads' timed steps, to judge whether it was disturbed ({@link LinuxLateness}). */
    public record LinuxRun(ScenarioResult result, List<LinuxLateness.Start> starts, LinuxSamplerBlind blind) {
        /** A recorded run without the sampler's record (it saw everything). */
        public LinuxRun(ScenarioResult result, List<LinuxLateness.Start> starts) {
            this(result, starts, LinuxSamplerBlind.NONE);
        }
    }

    /** {@link #linux}, with the threads' timed steps. */
    public static LinuxRun linuxTimed(Scenario scenario) {
        // The interpreter's own code (logging, formatting) runs on the scenario's SCHED_FIFO
        // threads: a sim run first loads and compiles it, so that its first steps do not take
        // milliseconds of the scenario's time.
        sim(scenario, scenario.seed(), true);
        try (LinuxPlatform p = new LinuxPlatform()) {
            ScenarioResult r = run(scenario, p, true, -1);
            return new LinuxRun(r, p.starts(), p.samplerBlind());
        }
    }

    static ScenarioResult run(Scenario scenario, Platform platform, boolean pi, long seed) {
        EventLog log = new EventLog();
        platform.setup(scenario, pi, log);
        Map<String, ThreadState> states = new LinkedHashMap<>();
        for (ThreadSpec t : scenario.threads()) {
            states.put(t.name(), new ThreadState(t));
        }
        AtomicInteger running = new AtomicInteger(states.size());
        // Lock-free: in linux mode the scenario threads append to these at SCHED_FIFO priorities.
        Queue<String> stepFailures = new ConcurrentLinkedQueue<>();
        Queue<ScenarioResult.StepOutcome> outcomes = new ConcurrentLinkedQueue<>();
        for (ThreadState s : states.values()) {
            platform.start(s.spec.name(), s.spec.startNanos(), () -> {
                s.started = platform.now();
                log.add(s.started, s.spec.kernel(), s.spec.name(), "start", "priority " + s.spec.priority());
                next(s, platform, log, running, stepFailures, outcomes);
            });
        }
        boolean completed = platform.runUntil(() -> running.get() == 0, scenario.limitNanos());
        List<Event> events = log.events();
        for (Event e : events) {
            ThreadState s = states.get(e.thread());
            if (s != null && (e.event().equals("boost") || e.event().equals("deboost"))) {
                Matcher m = TO_PRIORITY.matcher(e.detail());
                if (m.find()) {
                    s.maxPriority = Math.max(s.maxPriority, Integer.parseInt(m.group(1)));
                }
            }
        }
        List<ScenarioResult.ThreadSummary> threads = new ArrayList<>();
        for (ThreadState s : states.values()) {
            threads.add(new ScenarioResult.ThreadSummary(s.spec.name(), s.spec.kernel(), platform.tid(s.spec.name()),
                    s.spec.priority(), s.maxPriority, s.started, s.finished, s.wait));
        }
        ScenarioResult partial = new ScenarioResult(scenario, platform.mode(), seed, pi, completed, events, threads,
                List.of(), List.copyOf(stepFailures), List.copyOf(outcomes));
        return partial.withExpectations(Expectations.check(scenario, partial));
    }

    /** One scenario thread while it runs; touched by one platform thread at a time. */
    private static final class ThreadState {
        final ThreadSpec spec;
        int pc;
        long started = -1;
        long finished = -1;
        long wait;
        int maxPriority;

        ThreadState(ThreadSpec spec) {
            this.spec = spec;
            this.maxPriority = spec.priority();
        }
    }

    private static void next(ThreadState s, Platform platform, EventLog log, AtomicInteger running,
            Queue<String> stepFailures, Queue<ScenarioResult.StepOutcome> outcomes) {
        boolean implicitExit = s.pc >= s.spec.program().size();
        Step step = implicitExit ? new Step(Step.Kind.EXIT, null, -1, 0, null) : s.spec.program().get(s.pc);
        int number = ++s.pc;
        long asked = platform.now();
        log.add(asked, s.spec.kernel(), s.spec.name(), step.kind().key, implicitExit ? "(end of program)" : step.args());
        platform.call(s.spec.name(), step, outcome -> {
            long answered = platform.now();
            if (step.kind() == Step.Kind.LOCK || step.kind() == Step.Kind.TRYLOCK || step.kind() == Step.Kind.RPC) {
                s.wait += answered - asked;
            }
            log.add(answered, s.spec.kernel(), s.spec.name(), answerEvent(step, outcome), answerDetail(step, outcome, answered - asked));
            outcomes.add(new ScenarioResult.StepOutcome(s.spec.name(), number,
                    implicitExit ? "exit (end of program)" : step.toString(), step.kind(), step.word(), outcome.code(),
                    (step.kind() == Step.Kind.READ || step.kind() == Step.Kind.RECEIVE) && !outcome.failed()
                            ? outcome.detail() : "", answered));
            if (step.expect() != null && !step.expect().equals(outcome.code())) {
                stepFailures.add(s.spec.name() + " step " + number + " (" + step + ") expected " + step.expect()
                        + " but got " + outcome.code() + (outcome.detail().isEmpty() ? "" : ": " + outcome.detail()));
            }
            if (step.read() != null && (!outcome.code().equals("ok") || !step.read().equals(outcome.detail()))) {
                stepFailures.add(s.spec.name() + " step " + number + " (" + step + ") expected to read " + step.read()
                        + " but " + (outcome.code().equals("ok") ? "read " + outcome.detail() : "got "
                        + outcome.code() + (outcome.detail().isEmpty() ? "" : ": " + outcome.detail())));
            }
            // ESRCH: the thread is gone (its task died), so its program ends here.
            boolean ended = step.kind() == Step.Kind.EXIT || step.kind() == Step.Kind.DIE
                    || outcome.code().equals("ESRCH");
            if (ended) {
                s.finished = answered;
                running.decrementAndGet();
            } else {
                next(s, platform, log, running, stepFailures, outcomes);
            }
        });
    }

    private static String answerEvent(Step step, Outcome o) {
        if (o.failed()) {
            return step.kind().key + "-failed";
        }
        return switch (step.kind()) {
            case LOCK, TRYLOCK -> o.code().equals("busy") ? "busy" : "acquired";
            case UNLOCK -> "unlocked";
            case CONSISTENT -> "consistent";
            case COMPUTE -> "computed";
            case SLEEP -> "woke";
            case READ -> "read";
            case WRITE -> "wrote";
            case PRIORITY -> "priority-set";
            case EXIT -> "exited";
            case DIE -> "died";
            case PORT_ALLOCATE -> "port-allocated";
            case SEND -> "sent";
            case RECEIVE -> "received";
            case RPC -> "replied";
        };
    }

    private static String answerDetail(Step step, Outcome o, long took) {
        String base = switch (step.kind()) {
            case LOCK, TRYLOCK -> step.word() + (o.detail().isEmpty() ? "" : " (" + o.detail() + ")")
                    + " after " + Durations.format(took);
            case READ -> step.word() + " = " + o.detail();
            default -> o.failed() ? o.detail() : step.args();
        };
        return o.failed() || o.code().equals("EOWNERDEAD") ? o.code() + ": " + base : base;
    }
}
