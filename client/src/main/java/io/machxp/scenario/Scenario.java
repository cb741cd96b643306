package io.machxp.scenario;

import java.util.List;
import java.util.Map;

/**
 * A scenario: kernels, memory objects, named words in them, threads with programs, and what is
 * expected of the run. Read from YAML by {@link ScenarioParser}; run by {@link ScenarioRun}.
 *
 * @param seed the default seed of a sim run (the command line can override it)
 * @param latencyNanos one-way XP latency in sim mode
 * @param jitterNanos extra seeded latency per message in sim mode, up to this much
 * @param objects memory object name -> size in bytes
 * @param words word name -> where it is (futexes and data)
 * @param limitNanos the run stops at this (virtual or real) time if threads are still going
 * @param warnings what the file's checks found doubtful but runnable (see {@link ScenarioTiming}), one
 *     line each, like "chain.yaml:14: warning: ..."
 * @param pagers how many pagers there are and which serves each object (scenario key pagers, and
 *     pager under an object)
 */
public record Scenario(String name, String description, long seed, long latencyNanos, long jitterNanos,
        List<KernelSpec> kernels, Map<String, Long> objects, Map<String, WordSpec> words, List<ThreadSpec> threads,
        List<Expectation> expectations, long limitNanos, List<String> warnings,
        io.machxp.kernel.core.PagerDirectory pagers) {

    /** A scenario whose one pager serves every object. */
    public Scenario(String name, String description, long seed, long latencyNanos, long jitterNanos,
            List<KernelSpec> kernels, Map<String, Long> objects, Map<String, WordSpec> words, List<ThreadSpec> threads,
            List<Expectation> expectations, long limitNanos, List<String> warnings) {
        this(name, description, seed, latencyNanos, jitterNanos, kernels, objects, words, threads, expectations,
                limitNanos, warnings, io.machxp.kernel.core.PagerDirectory.SINGLE);
    }

    /** A scenario without warnings. */
    public Scenario(String name, String description, long seed, long latencyNanos, long jitterNanos,
            List<KernelSpec> kernels, Map<String, Long> objects, Map<String, WordSpec> words, List<ThreadSpec> threads,
            List<Expectation> expectations, long limitNanos) {
        this(name, description, seed, latencyNanos, jitterNanos, kernels, objects, words, threads, expectations,
                limitNanos, List.of());
    }

    /** A kernel: its name and how many simulated CPUs it has. */
    public record KernelSpec(String name, int cpus) {}

    /** A 32-bit word at {@code offset} of memory object {@code object}. */
    public record WordSpec(String name, String object, long offset) {}

    /**
     * A thread: its task (threads naming the same task on the same kernel share it; by default
     * each thread has a task of its own), base priority, start time and program.
     */
    public record ThreadSpec(String name, String kernel, String task, int priority, long startNanos, List<Step> program) {}

    /** Where each word is in a task that mapped each object at {@code objectBase}. */
    public Map<String, Long> wordAddresses(Map<String, Long> objectBase) {
        Map<String, Long> addresses = new java.util.HashMap<>();
        words.values().forEach(w -> addresses.put(w.name(), objectBase.get(w.object()) + w.offset()));
        return addresses;
    }

    public ThreadSpec thread(String name) {
        return threads.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }
}
