package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Leases and fencing at the pager: a kernel it has not heard from for a lease is declared dead,
 * its futexes go on with owner_died and its pages revert; a broken stream keeps what it held until
 * the lease ends; every grant carries a growing token and a release must carry its grant's.
 */
class LeaseAndFencingTest {
    private static final long LEASE = 1_000_000_000L;
    private final MemoryPageStore store = new MemoryPageStore();
    private final XpKernels x = new XpKernels(store, LEASE);

    private static MemoryObjectFutexGranted granted(List<PagerToKernel> got) {
        return got.stream().filter(PagerToKernel::hasMemoryObjectFutexGranted).findFirst()
                .orElseThrow(() -> new AssertionError("no futex_granted in " + got)).getMemoryObjectFutexGranted();
    }

    /** A holds the futex at 0 and B waits for it: the token of A's grant. */
    private long heldByAWithBWaiting(long a, long b) {
        x.lockFutex(a, 0);
        long token = granted(x.take(a)).getFencingToken();
        x.lockFutex(b, 0);
        return token;
    }

    private void release(long s, long token, boolean ownerDied) {
        x.xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(token).setOwnerDied(ownerDied)));
    }

    @Test
    void theWelcomeGivesTheLeaseAndEveryKeepaliveIsAnsweredWithItsSequence() {
        x.pager.sessionOpened(1);
        x.xp(1, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)));
        assertThat(x.one(1).getPagerWelcome().getLeaseMillis()).isEqualTo(1000);
        x.keepalive(1, 41);
        assertThat(x.one(1).getPagerKeepalive().getSequence()).isEqualTo(41);
        assertThat(x.stats.keepalives()).as("counted apart from the XP routines").isEqualTo(2);
        assertThat(x.stats.messages()).isEqualTo(2); // hello, welcome
    }

    @Test
    void aKernelThatKeepsTalkingKeepsItsFutexAndOneThatFallsSilentIsDeclaredDead() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.lockFutex(a, 0);
        long first = granted(x.take(a)).getFencingToken();
        x.lockFutex(b, 0);
        assertThat(x.take(a)).hasSize(1); // relinquish: A does not answer (its owner holds it)
        for (int i = 1; i <= 8; i++) {       // two leases, A heard every quarter
            x.advance(LEASE / 4);
            x.keepalive(a, i);
            x.keepalive(b, i);
        }
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(x.ended).isEmpty();
        x.take(a);
        x.take(b);

        for (int i = 9; i <= 12; i++) {      // A falls silent; B goes on
            x.advance(LEASE / 4);
            x.keepalive(b, i);
        }
        assertThat(x.ended).containsOnlyKeys(a);
        assertThat(x.ended.get(a)).startsWith("ETIMEDOUT").contains("declared kernel A dead").contains("OWNER_DIED");
        assertThat(x.declaredDead).containsEntry("A", List.of(0L));
        MemoryObjectFutexGranted g = granted(x.take(b));
        assertThat(g.getOwnerDied()).isTrue();
        assertThat(g.getFencingToken()).isGreaterThan(first);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(x.stats.kernelsDeclaredDead()).isEqualTo(1);

        // What A still sends is fenced off: its stale release changes nothing.
        release(a, first, false);
        assertThat(x.stats.fenced()).isEqualTo(1);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("B");

        // The next grant after B's carries no owner_died: B's kernel did not die.
        x.lockFutex(x.kernel(3, "C"), 0);
        x.futexReleased(b, 0);
        MemoryObjectFutexGranted toC = granted(x.take(3));
        assertThat(toC.getOwnerDied()).isFalse();
        assertThat(toC.getFencingToken()).isEqualTo(g.getFencingToken() + 1);
    }

    @Test
    void tokensCarryThePagerEpochInTheirHighHalf() {
        long a = x.kernel(1, "A");
        x.lockFutex(a, 8);
        assertThat(granted(x.take(a)).getFencingToken()).isEqualTo(3L << 32 | 1);
    }

    /**
     * xp-spec 8.5: tokens grow across pager restarts. A pager without a store takes its start
     * second as epoch, so one restarted within that second has the same epoch; its tokens start at
     * the millisecond of its start and stay above the earlier start's.
     */
    @Test
    void aPagerRestartedInTheSecondItStartedInStillHandsOutGreaterTokens() {
        long epoch = io.machxp.pager.store.PageStore.epochSecond(java.time.Instant.parse("2026-12-04T23:10:05.250Z"));
        java.time.Instant first = java.time.Instant.parse("2026-12-04T23:10:05.250Z");
        java.time.Instant again = java.time.Instant.parse("2026-12-04T23:10:05.731Z");
        long before = tokenAfterGrants(epoch, first, 1000);
        long after = tokenAfterGrants(epoch, again, 1);
        assertThat(after >>> 32).as("the same second: the same epoch").isEqualTo(before >>> 32);
        assertThat(after).as("the restarted pager's first token, above the earlier start's 1,000th").isGreaterThan(before);
        assertThat(PagerOptions.firstTokenAt(epoch, epoch + 1, again)).as("an epoch that is not the start second")
                .isEqualTo(1);
        assertThat(PagerOptions.firstTokenAt(epoch, epoch, java.time.Instant.parse("2026-12-04T23:10:05.999999999Z")))
                .as("the last millisecond stays in the low half").isEqualTo(999L << 22 | 1).isLessThan(1L << 32);
    }

    /** The token of the {@code grants}th grant of one futex by a pager of {@code epoch} started at {@code start}. */
    private static long tokenAfterGrants(long epoch, java.time.Instant start, int grants) {
        long second = io.machxp.pager.store.PageStore.epochSecond(start);
        XpKernels p = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, epoch)
                .withFirstToken(PagerOptions.firstTokenAt(epoch, second, start)));
        long a = p.kernel(1, "A");
        long token = 0;
        for (int i = 0; i < grants; i++) {
            p.lockFutex(a, 0);
            token = granted(p.take(a)).getFencingToken();
            p.xp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(token)));
        }
        return token;
    }

    @Test
    void aReleaseWithAnotherGrantsTokenIsRefusedAndTheFutexStaysHeld() {
        long a = x.kernel(1, "A");
        long token = heldByAWithBWaiting(a, x.kernel(2, "B"));
        release(a, token - 1, false);
        assertThat(x.stats.refused()).isEqualTo(1);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("A");
        x.futexReleased(a, 0);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("B");
    }

    @Test
    void anOwnerDiedTheKernelCouldNotRecordTravelsOnToTheNextGrant() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        release(a, heldByAWithBWaiting(a, b), true);
        assertThat(granted(x.take(b)).getOwnerDied()).isTrue();
    }

    @Test
    void aBrokenStreamKeepsWhatItHeldUntilItsLeaseEnds() {
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        x.lockFutex(a, 0);
        x.take(a);
        x.advance(LEASE / 2);
        x.pager.sessionClosed(a);           // A crashed, or its connection broke
        x.lockFutex(b, 0);
        x.keepalive(b, 1);
        assertThat(x.take(b)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.PAGER_KEEPALIVE);

        // A kernel of the same name cannot take over before then: it could be A, still working.
        x.pager.sessionOpened(3);
        x.xp(3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)));
        assertThat(x.ended.get(3L)).startsWith("EAGAIN").contains("lease ends in 500 ms");

        x.advance(LEASE / 2 - 1);
        assertThat(x.pager.holderOf("obj", 0)).as("not before the lease ends").isEqualTo("A");
        x.advance(1);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(granted(x.take(b)).getOwnerDied()).isTrue();
    }

    @Test
    void aKernelThatHeldNothingIsForgottenAtOnceAndItsNameIsFree() {
        long a = x.kernel(1, "A");
        x.pager.sessionClosed(a);
        assertThat(x.pager.kernels()).isEmpty();
        x.kernel(2, "A");
        assertThat(x.pager.kernels()).containsExactly("A");
    }

    @Test
    void theWritesADeadKernelNeverReturnedAreLostAndThePagersCopyServesTheNext() {
        long a = x.kernel(1, "A");
        x.write(a, PAGE);
        x.take(a);
        x.returnDirty(a, PAGE, page(5), true);   // reaches the pager
        x.advance(LEASE);                        // A writes on, returns nothing more, and is silent
        assertThat(x.declaredDead).containsKey("A");
        long b = x.kernel(2, "B");
        x.write(b, PAGE);
        assertWriteCopy(x.one(b), PAGE, page(5));
    }

    @Test
    void anOwnerDiedGrantTheKernelNeverSawGoesOnWhenItTerminates() {
        long a = x.kernel(1, "A");
        x.lockFutex(a, 0);                      // A holds it, then falls silent
        long b = x.kernel(2, "B");
        x.write(b, 0);                          // B holds the futex's page writable: the pager cannot record the death
        x.take(b);
        x.advance(LEASE / 2);
        x.keepalive(b, 1);
        x.advance(LEASE / 2);                   // A is declared dead
        x.lockFutex(b, 0);
        assertThat(granted(x.take(b)).getOwnerDied()).isTrue();
        x.terminate(b);                         // B ends before it saw the grant: it never released it
        long c = x.kernel(3, "C");
        x.lockFutex(c, 0);
        assertThat(granted(x.take(c)).getOwnerDied()).as("still owed to the next owner").isTrue();
    }
}
