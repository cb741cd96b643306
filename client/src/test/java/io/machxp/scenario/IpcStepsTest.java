package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Mach IPC steps: how they read, their mistakes, and where they run (sim only). */
class IpcStepsTest {
    private static final String HEAD = "kernels: [{name: A}, {name: B}]\nthreads:\n";

    @Test
    void ipcStepsReadWithTheirPortIdTimeoutAndExpectedOutcome() {
        Scenario s = ScenarioParser.parse(HEAD + """
                  - name: S
                    program: [{port_allocate: svc}, {receive: svc, id: 1, timeout: 5ms, expect: MACH_RCV_TIMED_OUT}, {send: reply, id: 2}]
                  - name: C
                    kernel: B
                    program: [{rpc: svc, id: 1, expect: ok}, {send: nowhere, expect: MACH_SEND_INVALID_DEST}]
                """, "ipc.yaml");
        assertThat(s.thread("S").program()).containsExactly(
                new Step(Step.Kind.PORT_ALLOCATE, "svc", -1, 0, null),
                new Step(Step.Kind.RECEIVE, "svc", 5_000_000, 0, "MACH_RCV_TIMED_OUT", "1"),
                new Step(Step.Kind.SEND, "reply", -1, 2, null));
        assertThat(s.thread("C").program()).extracting(Step::toString)
                .containsExactly("rpc svc (id 1)", "send nowhere (id 0)");
    }

    @Test
    void mistakesInIpcStepsAreNamed() {
        assertThatThrownBy(() -> ScenarioParser.parse(HEAD + """
                  - name: S
                    program: [{receive: reply}, {rpc: svc, expect: MACH_RCV_TIMED_OUT}, {send: svc, timeout: 1ms}]
                """, "bad.yaml")).isInstanceOfSatisfying(ScenarioException.class, e -> assertThat(e.getMessage())
                .contains("'reply' names the reply right of the last message received: only send takes it")
                .contains("a rpc never gives MACH_RCV_TIMED_OUT")
                .contains("'timeout' does not apply to send; a send takes id and expect"));
    }

    @Test
    void aScenarioWithIpcStepsRunsInTheSimulatorAndTheirOutcomesAreChecked() {
        Scenario s = ScenarioParser.parse(HEAD + """
                  - name: S
                    program: [{port_allocate: svc}, {receive: svc, id: 7}, {send: reply, id: 8}, {receive: svc, timeout: 1ms, expect: MACH_RCV_TIMED_OUT}]
                  - name: C
                    kernel: B
                    start: 1ms
                    program: [{rpc: svc, id: 7}, {send: nowhere, expect: MACH_SEND_INVALID_DEST}]
                """, "ipc.yaml");
        ScenarioResult r = ScenarioRun.sim(s, 1, true);
        assertThat(r.completed()).isTrue();
        assertThat(r.stepFailures()).isEmpty();
        List<String> codes = r.outcomes().stream().filter(o -> o.kind().ipc()).map(o -> o.thread() + " " + o.code()).toList();
        assertThat(codes).containsExactlyInAnyOrder("S ok", "S ok", "S ok", "S MACH_RCV_TIMED_OUT", "C ok",
                "C MACH_SEND_INVALID_DEST");
    }

    @Test
    void linuxModeRefusesIpcStepsAsHavingNoLinuxCounterpart() {
        Scenario s = ScenarioParser.parse(HEAD + "  - name: S\n    program: [{port_allocate: svc}]\n", "ipc.yaml");
        assertThat(LinuxSupport.usesIpc(s)).isTrue();
        assertThat(LinuxSupport.IPC_REFUSED).contains("no Linux counterpart");
    }
}
