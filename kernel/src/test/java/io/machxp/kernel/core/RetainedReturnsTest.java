package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.vm.VmPage;
import org.junit.jupiter.api.Test;

class RetainedReturnsTest {
    /** Objects 1 and 2 are pager 0's and pager 1's. */
    private final RetainedReturns returns = new RetainedReturns(2, id -> id == 1 ? 0 : 1);

    private static VmPage page(int objectId) {
        return new VmPage(objectId, 0, 4096, null, null);
    }

    @Test
    void aReturnIsKeptUntilAKeepaliveSentAfterItIsAnswered() {
        returns.retainReturns(0);
        returns.keepaliveSent(0, 1);
        returns.retain(page(1), ByteString.copyFromUtf8("dirty"));
        returns.keepaliveAnswered(0, 1);
        assertThat(returns.count()).as("sent before the return: answers nothing about it").isEqualTo(1);
        returns.keepaliveAnswered(0, 2);
        assertThat(returns.count()).isZero();
    }

    /**
     * A pager the kernel stopped using takes no reclaim: what was kept for one goes, and a new
     * session with it (a secondary's rejoin) numbers keepalives from 1 again, so nothing of the
     * lost one waits for a sequence number the new session reaches only later, or never.
     */
    @Test
    void aLostPagersReturnsGoWithItsSessionAndOnlyThose() {
        returns.retainReturns(0);
        returns.retainReturns(1);
        returns.keepaliveSent(1, 500);
        returns.retain(page(1), ByteString.copyFromUtf8("zero"));
        returns.retain(page(2), ByteString.copyFromUtf8("one"));
        returns.sessionOver(1);
        assertThat(returns.count()).as("pager 0's return stays").isEqualTo(1);

        returns.retainReturns(1);
        returns.retain(page(2), ByteString.copyFromUtf8("new session"));
        returns.keepaliveSent(1, 1);
        returns.keepaliveAnswered(1, 1);
        assertThat(returns.count()).as("the new session's first keepalive confirms its return").isEqualTo(1);
    }

    /**
     * xp-spec 9.4: a page still held whose last dirty return is unconfirmed (a downgrade, an msync)
     * is named once, with the access held and the return's version and data; a page given back is
     * access NONE with its data; a page held with no such return comes without data.
     */
    @Test
    void aReclaimNamesEachPageOnceHeldWithItsUnconfirmedReturn() {
        returns.retainReturns(0);
        io.machxp.kernel.vm.VmObject o = new io.machxp.kernel.vm.VmObject(1, "obj", 4096);
        o.ready(3 * 4096);
        VmPage downgraded = o.slot(0);
        downgraded.version = 4;
        returns.retain(downgraded, ByteString.copyFromUtf8("downgraded"));
        downgraded.access = VmPage.Access.READ;
        VmPage givenBack = o.slot(4096);
        givenBack.version = 2;
        returns.retain(givenBack, ByteString.copyFromUtf8("given back"));
        VmPage held = o.slot(2 * 4096);
        held.version = 7;
        held.access = VmPage.Access.READ_WRITE;

        var pages = returns.reclaim(o);
        assertThat(pages).extracting(io.machxp.proto.xp.ReclaimedPage::getOffset).containsExactly(0L, 4096L, 8192L);
        assertThat(pages.get(0).getAccess()).isEqualTo(io.machxp.proto.xp.VmProt.VM_PROT_READ);
        assertThat(pages.get(0).getVersion()).isEqualTo(4);
        assertThat(pages.get(0).getData().toStringUtf8()).isEqualTo("downgraded");
        assertThat(pages.get(1).getAccess()).isEqualTo(io.machxp.proto.xp.VmProt.VM_PROT_NONE);
        assertThat(pages.get(1).getData().toStringUtf8()).isEqualTo("given back");
        assertThat(pages.get(2).getAccess()).isEqualTo(io.machxp.proto.xp.VmProt.VM_PROT_READ_WRITE);
        assertThat(pages.get(2).getVersion()).isEqualTo(7);
        assertThat(pages.get(2).getData().isEmpty()).isTrue();
    }

    /** The same version supplied again may be the pager's copy in memory, not yet on disk: kept. */
    @Test
    void aSupplyOfTheSameVersionKeepsTheReturnANewerOneDropsIt() {
        returns.retainReturns(0);
        VmPage p = page(1);
        p.version = 5;
        returns.retain(p, ByteString.copyFromUtf8("dirty"));
        returns.supplied(p, 5);
        assertThat(returns.count()).isEqualTo(1);
        returns.supplied(p, 6);
        assertThat(returns.count()).isZero();
    }
    /**
     * Lease or not, the returns no answered keepalive confirmed are counted (what a clean end whose
     * last keepalive goes unanswered says may not be stored): an answer confirms those sent before
     * its keepalive, not those after; each pager counts its own.
     */
    @Test
    void returnsNotConfirmedAreCountedWithOrWithoutALease() {
        returns.retain(page(1), ByteString.copyFromUtf8("a"));
        returns.retain(page(1), ByteString.copyFromUtf8("b"));
        returns.retain(page(2), ByteString.copyFromUtf8("other pager"));
        returns.keepaliveSent(0, 1);
        returns.retain(page(1), ByteString.copyFromUtf8("after the keepalive"));
        assertThat(returns.unconfirmed(0)).isEqualTo(3);
        returns.keepaliveAnswered(0, 1);
        assertThat(returns.unconfirmed(0)).as("the one sent after keepalive 1").isEqualTo(1);
        assertThat(returns.unconfirmed(1)).isEqualTo(1);
        assertThat(returns.count()).as("without a lease nothing is retained for a reclaim").isZero();
        returns.keepaliveSent(0, 2);
        returns.keepaliveAnswered(0, 2);
        assertThat(returns.unconfirmed(0)).isZero();
    }
}
