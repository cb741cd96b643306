package io.machxp.chaos.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.machxp.chaos.ipc.IpcChaosRun.PortFate;
import io.machxp.chaos.ipc.IpcHistory.Entry;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness's record of ports in transit inside one another: cycles, and may-be-dead marks by crashes and renewals. */
class PortFateMarksTest {
    private final IpcChaosRun run = new IpcChaosRun(1, IpcChaosRunTest.SMALL);

    private PortFate port(int number, int transitVia, long moveBegun) {
        PortFate p = new PortFate(number);
        p.transitVia = transitVia;
        p.moveBegun = moveBegun;
        run.ports.add(p);
        return p;
    }

    private List<Entry> marks() {
        return run.history.entries().stream().filter(e -> e.kind() == Kind.PORT_MAY_BE_DEAD).toList();
    }

    @Test
    void aPortInTransitInsideItselfClosesACycle() {
        port(0, 3, 10);
        port(1, 0, 20); // queued on p0
        port(2, 1, 30); // queued on p1
        port(3, -1, 0);
        assertThat(run.closesCycle(0)).isFalse();
        assertThat(run.carriedIn(0)).extracting(p -> p.number).containsExactly(1, 2);
        run.ports.get(3).transitVia = 2; // p3 goes in a message to p2, which is in transit inside it
        assertThat(run.closesCycle(3)).isTrue();
        assertThat(run.closesCycle(0)).isTrue();
        run.portDies(3, "a cycle");
        assertThat(run.ports).allMatch(p -> p.dead);
    }

    /**
     * A renewal's mark cascades to the ports inside, each from its own move's start; it ends at the
     * port's arrival, after which a new renewal marks it again; a crash's mark replaces it and stays.
     */
    @Test
    void aRenewalsMarkEndsAtTheArrivalACrashsStays() {
        PortFate p0 = port(0, 2, 10);
        PortFate p1 = port(1, 0, 20);
        port(2, -1, 0);
        run.portMayBeDead(0, false, "renewed");
        run.portMayBeDead(0, false, "renewed again");
        assertThat(marks()).extracting(Entry::port, Entry::a, Entry::b).containsExactly(
                tuple(0, 10L, 0L), tuple(1, 20L, 0L));
        p0.transitVia = -1;
        p0.arrived(null, 40);
        assertThat(p0.mayBeDead).isFalse();
        assertThat(p1.mayBeDead).isTrue();
        p0.transitVia = 2;
        p0.moveBegun = 50;
        run.portMayBeDead(0, true, "crashed");
        p0.arrived(null, 60);
        assertThat(p0.mayBeDead).isTrue();
        assertThat(p1.crashTouched).isTrue();
        assertThat(marks()).extracting(Entry::port, Entry::a, Entry::b).endsWith(
                tuple(0, 50L, 1L), tuple(1, 20L, 1L));
    }
}
