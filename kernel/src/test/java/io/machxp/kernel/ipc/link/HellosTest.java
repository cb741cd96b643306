package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.link.Hellos.Verdict;
import org.junit.jupiter.api.Test;

/** What a kernel makes of the others' hellos: a later session rejoins, anything else dead stays dead. */
class HellosTest {
    private static final long PROCESS = 0x5eedL;
    private final Hellos hellos = new Hellos();

    @Test
    void aFirstHelloIsTakenUnlessTheKernelWasDeclaredDeadBeforeItSpoke() {
        assertThat(hellos.hello(1, PROCESS, 0, false)).isEqualTo(Verdict.ADMIT);
        assertThat(hellos.hello(2, PROCESS, 0, true)).isEqualTo(Verdict.REFUSE);
    }

    @Test
    void aRefusedFirstHelloIsRecordedSoThatItsLaterSessionRejoins() { // review 2 N3
        assertThat(hellos.hello(2, PROCESS, 0, true)).isEqualTo(Verdict.REFUSE);
        assertThat(hellos.same(2, PROCESS, 0)).as("its probes are answered 'dead here'").isTrue();
        assertThat(hellos.hello(2, PROCESS, 1, true)).as("renewed").isEqualTo(Verdict.REJOIN);
    }

    @Test
    void theSameSessionIsTakenWhileAliveAndStaysDeadOnceDead() {
        hellos.hello(1, PROCESS, 0, false);
        assertThat(hellos.hello(1, PROCESS, 0, false)).isEqualTo(Verdict.ADMIT);
        assertThat(hellos.hello(1, PROCESS, 0, true)).isEqualTo(Verdict.REFUSE);
    }

    @Test
    void aLaterSessionRejoinsAndMakesTheEarlierOneStale() {
        hellos.hello(1, PROCESS, 0, false);
        assertThat(hellos.hello(1, PROCESS, 1, true)).isEqualTo(Verdict.REJOIN);
        assertThat(hellos.current(1, 1)).isTrue();
        assertThat(hellos.current(1, 0)).as("frames and deaths of session 0 no longer count").isFalse();
        assertThat(hellos.hello(1, PROCESS, 0, false)).as("a stale connection").isEqualTo(Verdict.REFUSE);
        assertThat(hellos.hello(1, PROCESS, 2, false)).as("also while still alive here").isEqualTo(Verdict.REJOIN);
    }

    @Test
    void anotherProcessWithTheSameIdIsARestartAndIsRefused() {
        hellos.hello(1, PROCESS, 0, false);
        assertThat(hellos.hello(1, PROCESS + 1, 0, false)).isEqualTo(Verdict.RESTARTED);
        assertThat(hellos.hello(1, PROCESS + 1, 5, true)).isEqualTo(Verdict.RESTARTED);
        assertThat(hellos.current(1, 0)).isTrue();
    }
}
