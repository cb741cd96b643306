package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.policy.MinimumHold;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The futex word around a boost kept for a waiter elsewhere over a broken stream to the pager
 * (FutexSessionEnds), as others see it and as Linux would leave it (review kboost): FUTEX_WAITERS
 * in a free word is only a local device of the kept boost and never goes into the page's bytes;
 * an owned word keeps WAITERS to its unlock, also past the kept boost's end; a locker taking the
 * futex through the core while a waiter elsewhere counts is boosted; a thread that owns the futex
 * no more (its word written over elsewhere) is not; without PI nothing is kept.
 */
class KernelCoreKeptBoostWordTest {
    private static final long LEASE_MS = 1000;
    private static final long W = WAITERS & 0xffffffffL;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);

    private static int wordAt(byte[] page, int at) {
        return java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    @Test
    void aFreeFutexsPageLeavingDuringTheKeptBoostCarriesNoWaiters() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).as("free, WAITERS kept here for the waiter elsewhere").isEqualTo(W);
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        assertThat(k.write(k.base + 64, new byte[] {1}).answered()).as("the page is dirty: it goes back").isTrue();
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true); // downgraded to read-only
        byte[] returned = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn().getData().toByteArray();
        assertThat(wordAt(returned, 0)).as("the pager's copy: free, as Linux shows it").isZero();
        assertThat(k.read(k.base, 4).value()).as("read-only here: the bytes").containsExactly(0, 0, 0, 0);
        KeptBoostEpisode.aLeaseLater(k, LEASE_MS);
        assertThat(k.read(k.base, 4).value()).as("the kept boost over, nobody waits").containsExactly(0, 0, 0, 0);
    }

    @Test
    void aFreeFutexsPageBackDuringTheKeptBoostTakesWaitersBackHere() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        assertThat(k.write(k.base + 64, new byte[] {1}).answered()).as("the page is dirty: it goes back").isTrue();
        byte[] page = k.takePageBack();
        assertThat(wordAt(page, 0)).as("the copy that left").isZero();
        MachThread next = k.thread(10);
        Answer<AcquirePath> locked = k.lock(next, k.base);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.supply(0, page);
        assertThat(locked.value()).isNotNull();
        assertThat(k.baseWord()).as("its unlock enters the kernel").isEqualTo(next.tid | W);
        assertThat(next.effectivePriority).as("the waiter elsewhere still waits").isEqualTo(60);
    }

    @Test
    void aTrylocksWaitersStaysInTheOwnedWordPastTheKeptBoostsEnd() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        assertThat(k.trylock(k.thread(3), k.base).value()).as("busy").isNull();
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        KeptBoostEpisode.aLeaseLater(k, LEASE_MS);
        assertThat(owner.effectivePriority).as("the kept boost is over").isEqualTo(5);
        assertThat(k.baseWord()).as("Linux: TRYLOCK_PI's WAITERS stays to the unlock").isEqualTo(owner.tid | W);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).isZero();
        MachThread next = k.thread(10);
        assertThat(k.lock(next, k.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.baseWord()).as("the fast path's word").isEqualTo(next.tid);
    }

    @Test
    void aTimedOutLocksWaitersStaysInTheOwnedWordPastTheKeptBoostsEnd() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        Answer<AcquirePath> timed = k.lock(k.thread(3), k.base, 10_000_000L);
        k.env.advance(20_000_000L);
        assertThat(timed.answered()).isTrue();
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        KeptBoostEpisode.aLeaseLater(k, LEASE_MS);
        assertThat(owner.effectivePriority).isEqualTo(5);
        assertThat(k.baseWord()).as("Linux: a timed-out waiter's WAITERS stays to the unlock")
                .isEqualTo(owner.tid | W);
        assertThat(k.unlock(owner, k.base).answered()).isTrue();
        assertThat(k.baseWord()).isZero();
    }

    @Test
    void aLockerTakingAFreeFutexAHoldKeptAcrossTheBreakIsBoosted() {
        CoreFixture h = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(new MinimumHold(100_000_000L)), LEASE_MS);
        MachThread owner = h.thread(40);
        h.acquireFromPager(owner, h.base);
        h.relinquish(0, 40);
        assertThat(h.unlock(owner, h.base).answered()).isTrue();
        assertThat(h.env.drain()).as("held by the policy").isEmpty();
        h.core.xp().onStreamBroken(0, "connection reset");
        assertThat(h.baseWord()).as("free, WAITERS for the kept boost").isEqualTo(W);
        MachThread next = h.thread(10);
        assertThat(h.lock(next, h.base).value()).isNotNull();
        assertThat(h.baseWord()).isEqualTo(next.tid | W);
        assertThat(next.effectivePriority).as("the waiter elsewhere still waits").isEqualTo(40);
        assertThat(h.unlock(next, h.base).answered()).isTrue();
        assertThat(next.effectivePriority).isEqualTo(10);
    }

    @Test
    void aLockerTakingAFreeFutexAHoldKeepsForAWaiterElsewhereIsBoosted() {
        CoreFixture h = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(new MinimumHold(100_000_000L)), LEASE_MS);
        MachThread owner = h.thread(40);
        h.acquireFromPager(owner, h.base);
        h.relinquish(0, 40); // no higher than the owner here: the hold keeps the futex a while
        assertThat(h.unlock(owner, h.base).answered()).isTrue();
        assertThat(h.env.drain()).as("held by the policy").isEmpty();
        assertThat(h.baseWord()).as("free under the hold, a relinquish pending").isZero();
        MachThread next = h.thread(10);
        assertThat(h.lock(next, h.base).value()).isNotNull();
        assertThat(h.baseWord()).as("its unlock enters the kernel").isEqualTo(next.tid | W);
        assertThat(next.effectivePriority).as("a waiter elsewhere waits for what it owns").isEqualTo(40);
    }

    @Test
    void anOwnerWhoseWordCameBackWrittenOverElsewhereKeepsNoBoost() {
        MachThread owner = KeptBoostEpisode.boostedOwnerAcrossABreak(k);
        KeptBoostEpisode.reclaimWelcomed(k, LEASE_MS);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
        k.env.drain();
        Answer<Void> w = k.write(k.base + 64, new byte[] {1});
        List<KernelToPager> sent = k.env.drain();
        assertThat(sent).extracting(KernelToPager::hasMemoryObjectDataRequest).contains(true);
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(CoreFixture.OBJECT_ID).setOffset(0).setData(ByteString.copyFrom(new byte[CoreFixture.PAGE]))
                .setVersion(50)).build());
        k.env.drain();
        assertThat(w.answered()).isTrue();
        assertThat(FutexWord.owner(k.futex(k.base).state())).as("written over elsewhere: nobody owns it").isZero();
        assertThat(owner.effectivePriority).as("it owns nothing: no boost").isEqualTo(5);
        assertThat(owner.boostedBy).isEmpty();
    }

    @Test
    void withoutPiABreakKeepsNothingAndTheOwnersUnlockGivesTheFastPathBack() {
        CoreFixture n = new CoreFixture(CoreOptions.DEFAULT.withPriorityInheritance(false), LEASE_MS);
        MachThread owner = n.thread(5);
        n.acquireFromPager(owner, n.base);
        n.relinquish(0, 0);
        n.core.xp().onStreamBroken(0, "connection reset");
        assertThat(n.futex(n.base).remoteBoostKept).as("no boost to keep").isFalse();
        assertThat(n.baseWord()).as("owned: WAITERS to the unlock, as on Linux").isEqualTo(owner.tid | W);
        assertThat(n.unlock(owner, n.base).answered()).isTrue();
        assertThat(n.baseWord()).as("the fast path's free word").isZero();
        MachThread next = n.thread(10);
        assertThat(n.lock(next, n.base).value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(n.baseWord()).isEqualTo(next.tid);
    }
}
