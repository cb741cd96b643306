package io.machxp.workbench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.variant.Variants;
import org.junit.jupiter.api.Test;

/** The workbench's runs in virtual time: deterministic by seed, and the workloads do what they say. */
class WorkbenchRunTest {
    static final WorkbenchRun.Setup SHORT = new WorkbenchRun.Setup(3, 2, 6, 20_000_000L, 10_000, 50_000);

    static WorkbenchResult run(String variant, String workload, double param) {
        return WorkbenchRun.run(Variants.of(variant), new Workload(workload, param, 3, 6), param, NetworkModel.LAN,
                SHORT, 7);
    }

    /**
     * compare --trace: a traced run has the trace-event format's structure (the shared check), a
     * flow per message, a wait and a hold slice per worker's lock, and tracing changes nothing:
     * the result is the untraced run's, and the same seed writes the same trace.
     */
    @Test
    void aTracedRunIsAValidTraceEventFileAndTheSameRun() throws Exception {
        WorkbenchRun.Setup tiny = new WorkbenchRun.Setup(2, 1, 2, 2_000_000L, 10_000, 50_000);
        io.machxp.trace.XpTrace trace = new io.machxp.trace.XpTrace();
        WorkbenchResult traced = WorkbenchRun.run(Variants.of("cache"), new Workload("alternation", 0, 2, 2), 0,
                NetworkModel.LAN, tiny, 3, trace);
        WorkbenchResult plain = WorkbenchRun.run(Variants.of("cache"), new Workload("alternation", 0, 2, 2), 0,
                NetworkModel.LAN, tiny, 3);
        assertThat(traced).isEqualTo(plain);

        String json = io.machxp.trace.ChromeTrace.json(trace);
        var processes = io.machxp.trace.TraceEventFormat.assertValid(json);
        assertThat(processes.values()).containsExactly("pager", "kernel k0", "kernel k1");
        var events = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("traceEvents");
        assertThat(io.machxp.trace.TraceEventFormat.assertFlows(events)).isEqualTo(trace.messages().size());
        java.util.List<String> names = new java.util.ArrayList<>();
        events.forEach(e -> names.add(e.get("name").asText()));
        assertThat(names).contains("← futex_granted", "→ futex_released", "wait f0", "hold f0", "hold f1");
        assertThat(trace.title()).contains("cache", "alternation", "seed 3");

        io.machxp.trace.XpTrace again = new io.machxp.trace.XpTrace();
        WorkbenchRun.run(Variants.of("cache"), new Workload("alternation", 0, 2, 2), 0, NetworkModel.LAN, tiny, 3, again);
        assertThat(io.machxp.trace.ChromeTrace.json(again)).isEqualTo(json);
    }

    @Test
    void theSameSeedGivesTheSameResult() {
        assertThat(run("cache", "locality", 0.5)).isEqualTo(run("cache", "locality", 0.5));
    }

    @Test
    void strictAlternationMakesHandoffsOfMostAcquisitions() {
        WorkbenchResult r = run("cache", "alternation", 0);
        assertThat(r.ops()).isPositive();
        // both workers of a kernel follow the same futex: one gets it from another kernel, the other locally
        assertThat((double) r.handoffs() / r.ops()).isGreaterThan(0.45);
        // a handoff is at least the four messages of the protocol
        assertThat(r.msgsPerOp()).isGreaterThanOrEqualTo(4.0 * r.handoffs() / r.ops());
        assertThat(r.jain()).isGreaterThan(0.9);
    }

    @Test
    void withFullLocalityACachedFutexCostsNoMessages() {
        WorkbenchResult cached = run("cache", "locality", 1);
        WorkbenchResult partTwo = run("no-cache", "locality", 1);
        assertThat(cached.msgsPerOp()).isLessThan(0.1);
        // lock_futex, granted, released (a release with request_again saves the next lock_futex)
        assertThat(partTwo.msgsPerOp()).isGreaterThan(2.0);
        assertThat(cached.opsPerSecond()).isGreaterThan(partTwo.opsPerSecond());
    }

    @Test
    void piggybackCarriesTheDataPageWithTheFutex() {
        WorkbenchResult cache = run("cache", "alternation", 0);
        WorkbenchResult piggyback = run("piggyback", "alternation", 0);
        assertThat(piggyback.msgsPerOp()).isLessThan(cache.msgsPerOp());
    }

    @Test
    void directHandoffServesTheWaiterSoonerForOneMessageMore() {
        WorkbenchResult cache = run("cache", "locality", 0);
        WorkbenchResult direct = run("direct", "locality", 0);
        // three one-way delays on the waiter's path instead of four (virtual time: deterministic)
        assertThat(direct.handoffMicros()).isLessThan(cache.handoffMicros());
        assertThat(direct.handoffs()).isPositive();
        // the copy over the kernel link comes on top of cache's four messages, and the page with it
        assertThat(direct.msgsPerOp()).isGreaterThan(cache.msgsPerOp());
        assertThat(direct.bytesPerOp()).isGreaterThan(cache.bytesPerOp());
    }

    @Test
    void aConvoyIsOneFutexForAll() {
        WorkbenchResult r = run("cache", "convoy", 0);
        assertThat(r.ops()).isPositive();
        assertThat(r.maxWaitMicros()).isGreaterThan(r.p50Micros());
    }

    @Test
    void unknownNamesAreRefusedWithTheChoices() {
        assertThatThrownBy(() -> Variants.of("fastest")).hasMessageContaining("no-cache, cache, page-separate");
        assertThatThrownBy(() -> Variants.of("cache:1ms")).hasMessageContaining("takes no duration");
        assertThatThrownBy(() -> new Workload("random", 0, 3, 6)).hasMessageContaining("alternation");
        assertThatThrownBy(() -> NetworkModel.of("moon")).hasMessageContaining("lan, dc and wan");
    }
}
