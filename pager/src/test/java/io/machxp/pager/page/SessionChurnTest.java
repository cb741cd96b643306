package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Map;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.machxp.pager.core.PagerCore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The pager's records stay bounded however many kernels come and go, in virtual time: 100,000
 * sessions of fresh kernel names, each locking and releasing a futex and writing a page, one in
 * ten dropping its stream while it holds a futex (declared dead a lease later).
 */
class SessionChurnTest {
    /** The churn logs two warnings per dropped kernel; 100,000 of them say nothing a test reads. */
    private final Logger pagerLog = (Logger) LoggerFactory.getLogger(PagerCore.class);
    private Level pagerLevel;

    @BeforeEach
    void quiet() {
        pagerLevel = pagerLog.getLevel();
        pagerLog.setLevel(Level.ERROR);
    }

    @AfterEach
    void loud() {
        pagerLog.setLevel(pagerLevel);
    }

    private static final long LEASE = 1_000_000_000L;
    /** A new session every 10 ms: 100 per lease, 10 of them dropped. */
    private static final long STEP = 10_000_000L;
    private static final int SESSIONS = 100_000;
    /** Futexes the dropped kernels hold when they go, cycled: each gets owner_died, later cleared. */
    private static final int DROP_FUTEXES = 256;

    private static long dropFutex(long drop) {
        return 2L * PAGE + (drop % DROP_FUTEXES) * 4;
    }

    /**
     * The bounds: at 100 sessions per lease, at most ~100 live or just closed, 10 broken ones a
     * lease (kept a lease) and the dead ones fenced a lease after; kernel ids busy for a lease of
     * life plus two leases of quarantine (about churn x (2 leases + G) = 300, G a lease for this
     * pager without a grace period, far below 1,023);
     * futex records: the 64 live ones' and the 256 that carry an owner_died until cleared; pages:
     * the object's 4 at most.
     */
    @Test
    void recordsStayBoundedAndNobodyIsRefused() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        Map<String, Integer> most = new java.util.HashMap<>();
        int[] mostBusy = {0};
        for (int i = 0; i < SESSIONS; i++) {
            long s = i + 1;
            k.kernel(s, "k" + i); // asserts welcome and ready: a refused kernel would get neither
            if (i % 10 == 0) {
                k.lockFutex(s, dropFutex(i / 10));
                assertThat(k.one(s).hasMemoryObjectFutexGranted()).isTrue();
                k.pager.sessionClosed(s); // its stream broke while it held the futex
            } else {
                long futex = (i % 64) * 4L;
                k.lockFutex(s, futex);
                assertThat(k.one(s).hasMemoryObjectFutexGranted()).isTrue();
                k.write(s, (i % 4) * (long) PAGE);
                PagerToKernel supply = k.one(s);
                assertThat(supply.hasMemoryObjectDataSupply() || supply.hasMemoryObjectDataUnavailable()).isTrue();
                k.returnDirty(s, (i % 4) * (long) PAGE, page(i), false);
                k.futexReleased(s, futex);
                if (i % 10 == 5 && i / 10 >= 100) { // locks the futex a kernel dropped 10 s ago held
                    long dead = dropFutex(i / 10 - 100);
                    k.lockFutex(s, dead);
                    assertThat(k.one(s).getMemoryObjectFutexGranted().getOwnerDied())
                            .as("its page was nobody's when that kernel died: the pager recorded the death in the "
                                    + "word").isFalse();
                    k.futexReleased(s, dead);
                }
                k.nothingTo(s);
                k.pager.sessionClosed(s);
            }
            k.advance(STEP);
            if (i % 10 == 9) {
                Map<String, Integer> counts = k.pager.recordCounts();
                counts.forEach((kind, n) -> most.merge(kind, n, Math::max));
                mostBusy[0] = Math.max(mostBusy[0], counts.get("kernelIds") - counts.get("quarantinedIds"));
            }
        }
        assertThat(k.stats.refused()).isZero();
        assertThat(k.ended).isEmpty();
        assertThat(most.get("sessions")).isLessThanOrEqualTo(20);
        assertThat(most.get("deadSessions")).isLessThanOrEqualTo(20);
        assertThat(most.get("kernelIds")).isLessThanOrEqualTo(1023); // names keep ids until ids run short
        assertThat(mostBusy[0]).as("ids of names with a session, live or broken").isLessThanOrEqualTo(300);
        assertThat(most.get("futexes")).isLessThanOrEqualTo(DROP_FUTEXES + 64);
        assertThat(most.get("pages")).isLessThanOrEqualTo(4);
        assertThat(most.get("futexTokenMarks")).as("one per object").isLessThanOrEqualTo(1);
        assertThat(most.get("deadKernelIdsInWords")).as("dropped kernels whose owner_died is not yet recorded: "
                + "10 a lease, cleared 10 leases later").isLessThanOrEqualTo(110);
    }

    /** A futex record nobody holds or waits for is pruned, and its futex's tokens still grow. */
    @Test
    void aPrunedFutexRecordDoesNotRepeatATokenAndANameThatComesBackKeepsItsId() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long a = k.kernel(1, "A");
        k.lockFutex(a, 0);
        long first = k.one(a).getMemoryObjectFutexGranted().getFencingToken();
        k.futexReleased(a, 0);
        assertThat(k.pager.recordCounts()).containsEntry("futexes", 0).containsEntry("pages", 0);
        k.lockFutex(a, 0);
        assertThat(k.one(a).getMemoryObjectFutexGranted().getFencingToken()).isGreaterThan(first);

        k.futexReleased(a, 0);
        k.pager.sessionClosed(a);
        k.pager.sessionOpened(2);
        k.xp(2, io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello
                .newBuilder().setKernelName("A").setProtocolVersion(1)));
        assertThat(k.one(2).getPagerWelcome().getKernelId()).as("its id rests, not given to another").isEqualTo(1);
    }

    /** Opens a session for a kernel of this name and returns the id it is welcomed with. */
    private static int welcomedId(XpKernels k, long session, String name) {
        k.pager.sessionOpened(session);
        k.xp(session, io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello
                .newBuilder().setKernelName(name).setProtocolVersion(1)));
        return k.one(session).getPagerWelcome().getKernelId();
    }

    /**
     * Once every id has been given out, a new name gets the least recently freed one whose
     * quarantine is over - but not the id of a kernel declared dead holding a futex whose word may
     * still hold its TIDs (a live kernel holds its page writable, so the pager cannot record the
     * death in its copy), until a grantee told of the death has released that futex.
     */
    @Test
    void theIdOfADeadHolderIsNotReusedUntilItsOwnerDiedIsRecorded() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        long d = k.kernel(1, "D");
        k.lockFutex(d, 0);
        k.take(d);
        long w = k.kernel(2, "W");
        k.write(w, 0);                             // W holds the futex's page writable: its copy is the page
        k.take(w);
        k.pager.sessionClosed(d);                  // its stream broke while it held the futex
        k.advanceHeard(LEASE, LEASE / 2, w);       // declared dead: the futex owes owner_died
        assertThat(k.declaredDead).containsKey("D");
        for (int id = 3; id <= 1023; id++) {       // every other id given out, and freed
            assertThat(welcomedId(k, id, "k" + id)).isEqualTo(id);
            k.pager.sessionClosed(id);
        }
        k.advanceHeard(2 * LEASE, LEASE / 2, w);   // every quarantine is over; W still writes the page
        assertThat(welcomedId(k, 2000, "N0")).as("D's id is held back; the next freed goes").isEqualTo(3);

        long c = k.kernel(2001, "C");
        k.lockFutex(c, 0);
        assertThat(k.one(c).getMemoryObjectFutexGranted().getOwnerDied()).isTrue();
        k.futexReleased(c, 0);                     // C recorded OWNER_DIED in the word: no TID of D is left
        k.advance(2 * LEASE);
        int got = 0;
        for (int n = 1; n <= 1023 && got != 1; n++) {
            got = welcomedId(k, 3000 + n, "N" + n);
        }
        assertThat(got).as("D's id is given out again, after the ids freed before it").isEqualTo(1);
        assertThat(k.stats.refused()).isZero();
    }
}
