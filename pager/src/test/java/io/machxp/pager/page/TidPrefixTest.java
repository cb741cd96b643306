package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 2.9: no two kernels of a pager share a TID prefix (the kernel id their primary gave
 * them, stated in a hello to a pager that is not their primary; else the id this pager gives). On
 * the core with a clock the test moves; sessions are numbered by the test.
 */
class TidPrefixTest {
    private static final long LEASE = 1_000_000_000L;

    /** kernel_hello (with the prefix, if not 0) and init of "obj": what the pager sent back. */
    /** The kernel id the pager gave. */
    private static int welcomed(XpKernels k, long session, String name, int tidPrefix) {
        List<PagerToKernel> got = k.helloWithPrefix(session, name, tidPrefix);
        assertThat(got).as("%s welcomed", name).isNotEmpty();
        assertThat(got.get(0).hasPagerWelcome()).as("%s welcomed", name).isTrue();
        assertThat(k.ended).as("%s welcomed", name).doesNotContainKey(session);
        return got.get(0).getPagerWelcome().getKernelId();
    }

    private static String refused(XpKernels k, long session, String name, int tidPrefix) {
        assertThat(k.helloWithPrefix(session, name, tidPrefix)).as("%s is not welcomed", name).isEmpty();
        assertThat(k.ended).as("%s refused", name).containsKey(session);
        return k.ended.get(session);
    }

    @Test
    void twoKernelsWithOnePrefixFromDifferentPrimariesAreNotBothTaken() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "a", 3); // a's primary gave it id 3
        String why = refused(k, 2, "b", 3); // b's primary, another pager, gave it id 3 too
        assertThat(why).startsWith("EEXIST").contains("'a'", "'b'", "TID prefix 3",
                "give every kernel the same --pager list in the same order");
        welcomed(k, 3, "c", 4);
        assertThat(k.stats.refused()).isZero();
    }

    @Test
    void aSecondaryKernelCannotStateAPrefixThisPagerGaveAsAPrimary() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(welcomed(k, 1, "a", 0)).as("this pager is a's primary: a's prefix is the id it gives")
                .isEqualTo(1);
        assertThat(refused(k, 2, "b", 1)).startsWith("EEXIST").contains("'a'", "'b'", "TID prefix 1");
    }

    @Test
    void aPrimaryDoesNotGiveAnIdASecondaryKernelHasAsItsPrefix() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        // b's primary is another pager, which gave it id 2; this pager gives b id 1 (a session's)
        assertThat(welcomed(k, 1, "b", 2)).isEqualTo(1);
        assertThat(welcomed(k, 2, "a", 0)).as("id 2 is b's TID prefix: this pager passes over it").isEqualTo(3);
        k.pager.sessionClosed(1); // b leaves holding nothing: its prefix is free at once
        assertThat(welcomed(k, 3, "c", 0)).as("ids never given out first; 2 joined the free ids").isEqualTo(4);
    }

    /**
     * Outside probe xpprobe P2: one session stating as its prefix the id this pager gives next
     * refused every new kernel whose primary this pager is (EEXIST, at every retry, the sentence
     * blaming their configuration) for as long as it kept its session. Now only that id is passed
     * over; the squatter keeps its session (2.9 cannot tell which side is misconfigured).
     */
    @Test
    void aStatedPrefixLocksOutNoKernelOfThisPrimary() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(welcomed(k, 1, "first", 0)).isEqualTo(1);
        assertThat(welcomed(k, 2, "squat", 3)).as("a secondary kernel stating the id this pager gives next but one")
                .isEqualTo(2);
        assertThat(welcomed(k, 3, "v1", 0)).isEqualTo(4);
        assertThat(welcomed(k, 4, "v2", 0)).isEqualTo(5);
        assertThat(welcomed(k, 5, "v3", 0)).isEqualTo(6);
        assertThat(k.ended).as("nobody refused").isEmpty();
        assertThat(k.stats.refused()).isZero();
    }

    /**
     * Outside review late6 A2: a kernel coming back under its name while its id rests, that id now
     * another kernel's stated TID prefix, was refused at every try for as long as that kernel lived.
     * It gets a new id; the old one rests on.
     */
    @Test
    void aReturningKernelWhoseRestingIdIsAnotherKernelsPrefixGetsANewId() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(welcomed(k, 1, "a", 0)).isEqualTo(1);
        k.pager.sessionClosed(1); // a leaves holding nothing: id 1 rests, still a's
        assertThat(welcomed(k, 2, "s", 1)).as("s's primary, another pager, gave it id 1").isEqualTo(2);
        assertThat(welcomed(k, 3, "a", 0)).as("a's resting id 1 is s's TID prefix: a new id").isEqualTo(3);
        assertThat(k.ended).as("nobody refused").isEmpty();
        k.pager.sessionClosed(3);
        k.pager.sessionClosed(2); // s leaves: a keeps its new id when it comes back
        assertThat(welcomed(k, 4, "a", 0)).isEqualTo(3);
    }

    /** A dead kernel's prefix that futex words may still carry is passed over too, not refused. */
    @Test
    void aPrimaryPassesOverADeadKernelsPrefixWhileWordsMayCarryIt() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "d", 3); // d's primary gave it id 3; this pager gives it 1
        k.lockFutex(1, 0);
        k.take(1);
        assertThat(welcomed(k, 9, "w", 9)).isEqualTo(2);
        k.write(9, 0); // w holds the futex's page writable: the pager cannot record d's death itself
        k.take(9);
        k.pager.sessionClosed(1);
        k.advanceHeard(LEASE, LEASE / 2, 9); // d declared dead: futex 0 goes on with owner_died
        assertThat(k.declaredDead).containsKey("d");
        int id = welcomed(k, 3, "e", 0);
        assertThat(id).as("d's prefix 3, which words may carry, is passed over").isEqualTo(4);
        assertThat(k.ended).as("nobody refused").isEmpty();
    }

    /**
     * A kernel that states a prefix (its primary is another pager) cannot change it: a refusal
     * because a dead kernel's TIDs may still be in words has the pager record those deaths, taking
     * the page back from the kernel that holds it writable as when ids run short, so a later hello
     * gets through. Before, nothing but a next owner locking each futex (or this pager's ids running
     * short) cleared it (late12 MED-2's second half).
     */
    @Test
    void aRefusedStatedPrefixHasThePagerRecordTheDeathAWriterHeldBack() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "d", 5);
        k.lockFutex(1, 0);
        k.take(1);
        welcomed(k, 9, "w", 9);
        k.write(9, 0); // w holds the futex's page writable: the pager cannot record d's death at once
        k.take(9);
        k.pager.sessionClosed(1);
        k.advanceHeard(LEASE, LEASE / 2, 9);
        assertThat(k.declaredDead).containsKey("d");
        assertThat(refused(k, 2, "e", 5)).startsWith("EAGAIN").contains("TID prefix 5", "sets the pager to look");
        List<PagerToKernel> toW = k.take(9);
        assertThat(toW).as("the refusal takes the page back from its writer").hasSize(1);
        XpKernels.assertFlush(toW.get(0), 0);
        k.returnClean(9, 0, false);
        k.lockCompleted(9, 0);
        assertThat(k.pager.recordCounts()).containsEntry("deadKernelIdsInWords", 0);
        welcomed(k, 3, "e", 5);
    }

    /**
     * A kernel back under its name while words may still carry its dead threads' TIDs (a death not
     * recorded yet) numbers its threads from 1 again: with its old id as prefix its thread 1 would be
     * the dead thread 1's TID (EDEADLK for it, ESRCH for its lockers). It gets a new id; the old one
     * rests on until the death is recorded (late12 LOW-4).
     */
    @Test
    void aNameBackWhileItsDeadThreadsMayBeInWordsGetsANewId() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(welcomed(k, 1, "d", 0)).isEqualTo(1);
        k.lockFutex(1, 0);
        k.take(1);
        assertThat(welcomed(k, 9, "w", 0)).isEqualTo(2);
        k.write(9, 0); // w holds the futex's page writable: the death waits
        k.take(9);
        k.pager.sessionClosed(1);
        k.advanceHeard(LEASE, LEASE / 2, 9);
        assertThat(k.declaredDead).containsKey("d");
        assertThat(welcomed(k, 2, "d", 0)).as("d back: not its id 1, whose TIDs words may carry").isEqualTo(3);
        assertThat(k.ended).as("nobody refused").isEmpty();
    }

    @Test
    void aKernelKeepsItsPrefixAcrossSessionsAndAPrefixIsFreedWithTheSession() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "a", 5);
        k.pager.sessionClosed(1);
        welcomed(k, 2, "a", 5); // the same kernel again
        k.pager.sessionClosed(2);
        welcomed(k, 3, "b", 5); // a left holding nothing: no word carries its TIDs
    }

    @Test
    void aBrokenSessionKeepsItsPrefixUntilItsLeaseEnds() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "a", 5);
        k.lockFutex(1, 0);
        k.take(1);
        k.pager.sessionClosed(1); // broken: a holds the futex until its lease ends
        assertThat(refused(k, 2, "b", 5)).startsWith("EEXIST").contains("'a'");
    }

    @Test
    void theTidsADeadKernelLeftInFutexWordsHoldItsPrefixUntilAnOwnerRecordsTheDeath() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "d", 5);
        k.lockFutex(1, 0);
        k.take(1);
        welcomed(k, 9, "w", 9);
        k.write(9, 0); // w holds the futex's page writable: its copy is the page, the pager cannot record the death
        k.take(9);
        k.pager.sessionClosed(1);
        k.advanceHeard(LEASE, LEASE / 2, 9); // declared dead: futex 0 goes on with owner_died, its word may hold d's TID
        assertThat(k.declaredDead).containsKey("d");
        k.advanceHeard(10 * LEASE, LEASE / 2, 9); // however long after
        assertThat(refused(k, 2, "e", 5)).startsWith("EAGAIN").contains("'d'", "'e'", "TID prefix 5",
                "declared dead");
        assertThat(k.finals).as("a hello's: a next owner may record the death, so not final").doesNotContain(2L);
        welcomed(k, 3, "d", 5); // d itself, back under its name: its own TIDs
        k.pager.sessionClosed(3);
        welcomed(k, 4, "c", 6);
        k.lockFutex(4, 0);
        assertThat(k.one(4).getMemoryObjectFutexGranted().getOwnerDied()).isTrue();
        k.futexReleased(4, 0); // c recorded OWNER_DIED in the word: no TID of d is left in it
        welcomed(k, 5, "e", 5);
    }

    /**
     * xp-spec 8.7: a kernel shutting down gives back with owner_died a futex its own ended thread
     * still owned (the page was elsewhere, so the word still has that thread's TID). Its prefix,
     * like a dead kernel's, goes to no other kernel until the death is recorded; the refusal has
     * the pager record it in its copy (nobody holds the page), so the next owner finds OWNER_DIED in
     * the word rather than in its grant.
     */
    @Test
    void theTidsAKernelLeftInAWordItGaveBackWithOwnerDiedHoldItsPrefixUntilTheDeathIsRecorded() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        welcomed(k, 1, "d", 5);
        k.lockFutex(1, 0);
        assertThat(k.one(1).getMemoryObjectFutexGranted().getOwnerDied()).isFalse();
        k.xp(1, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(0).setFencingToken(k.pager.fencingToken("obj", 0))
                .setOwnerDied(true)));
        k.terminate(1);
        k.pager.sessionClosed(1); // a clean end: d holds nothing
        k.advance(10 * LEASE); // however long after
        assertThat(refused(k, 2, "e", 5)).startsWith("EAGAIN").contains("'d'", "'e'", "TID prefix 5");
        welcomed(k, 3, "d", 5); // d itself, back under its name: its own TIDs
        k.pager.sessionClosed(3);
        welcomed(k, 4, "c", 6);
        k.lockFutex(4, 0);
        assertThat(k.one(4).getMemoryObjectFutexGranted().getOwnerDied()).as("recorded in the word").isFalse();
        k.write(4, 0);
        assertThat(FutexWords.wordAt(k.one(4).getMemoryObjectDataSupply().getData().toByteArray(), 0))
                .as("the pager recorded OWNER_DIED in its copy at e's refusal").isEqualTo(FutexWords.OWNER_DIED);
        k.futexReleased(4, 0);
        welcomed(k, 5, "e", 5);
    }

    @Test
    void aPrefixThatIsNotAKernelIdIsRefused() {
        XpKernels k = new XpKernels(new MemoryPageStore(), LEASE);
        assertThat(refused(k, 1, "a", 1024)).startsWith("EINVAL").contains("1024", "1..1023");
    }
}
