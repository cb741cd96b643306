package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;
import static io.machxp.conform.PagerProbe.OBJECT_ID;

import com.google.protobuf.ByteString;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;

/** Cases of spec section 8 (futexes). */
final class FutexCases {
    private FutexCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("8.3-grant-free", "lock_futex of a free futex is granted at once with a fencing token", p -> {
                    FakeKernel a = p.kernel("a");
                    MemoryObjectFutexGranted g = p.lock(a, p.freshPage());
                    Check.that(g.getFencingToken() != 0, "a grant must carry a fencing token (spec 8.5); it has 0");
                    Check.that(!g.getOwnerDied(), "a futex nobody held dead must not be granted with owner_died");
                }),
                must("8.4-relinquish", "a lock by another kernel asks the holder to relinquish, and is granted only "
                        + "after its release", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    MemoryObjectFutexGranted first = p.lock(a, futex);
                    b.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    p.relinquish(a, futex, "B asks for the futex A holds (spec 8.4)");
                    b.expectNone("B must not be granted a futex A holds (spec 8.2)", m -> Check.isGrant(m, futex));
                    a.send(Messages.released(OBJECT_ID, futex, first.getFencingToken(), false));
                    MemoryObjectFutexGranted second = p.granted(b, futex, "A released it (spec 8.4)");
                    Check.that(Long.compareUnsigned(second.getFencingToken(), first.getFencingToken()) > 0, "fencing "
                            + "tokens must grow with each grant (spec 8.5): " + first.getFencingToken() + " then "
                            + second.getFencingToken());
                }),
                must("5.3-answer-under-terminated-id", "a release under an id the kernel terminated, crossing the "
                        + "terminate while its other id names the object, is taken: the futex goes on", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    int second = OBJECT_ID + 1;
                    a.send(Messages.init(second, p.object(), p.pageSize()));
                    a.await("memory_object_ready for A's second id of the object (spec 5.2)", m ->
                            m.hasMemoryObjectReady() && m.getMemoryObjectReady().getObjectId() == second);
                    long futex = p.freshPage();
                    MemoryObjectFutexGranted first = p.lock(a, futex);
                    b.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    int named = p.relinquish(a, futex, "B asks for the futex A holds (spec 8.4)")
                            .getMemoryObjectRelinquishFutex().getObjectId();
                    // A terminates the id the pager named the object by, then answers under it, as asked
                    a.send(io.machxp.proto.xp.KernelToPager.newBuilder().setMemoryObjectTerminate(
                            io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(named)).build());
                    a.send(Messages.released(named, futex, first.getFencingToken(), false));
                    p.granted(b, futex, "A released it under the id it had just terminated, while its other id "
                            + "names the object: the pager must take it (spec 5.3)");
                }),
                must("8.5-tokens-grow", "fencing tokens grow strictly over grants A, B, A", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long t1 = p.lock(a, futex).getFencingToken();
                    a.send(Messages.released(OBJECT_ID, futex, t1, false));
                    a.sync();
                    long t2 = p.lock(b, futex).getFencingToken();
                    b.send(Messages.released(OBJECT_ID, futex, t2, false));
                    b.sync();
                    long t3 = p.lock(a, futex).getFencingToken();
                    Check.that(Long.compareUnsigned(t2, t1) > 0 && Long.compareUnsigned(t3, t2) > 0, "fencing tokens "
                            + "must grow strictly with each grant of a futex (spec 8.5): " + t1 + ", " + t2 + ", " + t3);
                }),
                must("8.5-stale-release-refused", "a release with another grant's token is dropped: the futex stays "
                        + "the holder's", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    a.send(Messages.released(OBJECT_ID, futex, token - 1, false));
                    a.sync();
                    b.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    p.relinquish(a, futex, "the release with token " + (token - 1) + " was not the grant's (" + token
                            + "), so A still holds the futex and is asked for it (spec 8.5)");
                    b.expectNone("B must not be granted: A's release had a stale token (spec 8.5)",
                            m -> Check.isGrant(m, futex));
                    a.send(Messages.released(OBJECT_ID, futex, token, false));
                    p.granted(b, futex, "A released with its grant's token");
                }),
                must("8.5-release-by-non-holder", "a release from a kernel that does not hold the futex is dropped",
                        p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    FakeKernel c = p.kernel("c");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    b.send(Messages.released(OBJECT_ID, futex, token, false));
                    b.sync();
                    c.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    p.relinquish(a, futex, "A still holds the futex B tried to release (spec 8.2)");
                    c.expectNone("C must not be granted: B's release was not the holder's", m -> Check.isGrant(m, futex));
                }),
                must("8.3-trylock-busy", "a trylock of a futex others wait for is answered futex_busy", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    FakeKernel c = p.kernel("c");
                    long futex = p.freshPage();
                    p.lockWithWaiter(a, b, futex);
                    c.send(Messages.lockFutex(OBJECT_ID, futex, true, 0));
                    p.busy(c, futex, "C tries a futex B waits for (spec 8.3)");
                }),
                must("8.3-trylock-held", "a trylock of a held futex asks the holder (relinquish try); futex_held makes "
                        + "it busy", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    b.send(Messages.lockFutex(OBJECT_ID, futex, true, 0));
                    var r = p.relinquish(a, futex, "B tries the futex A holds (spec 8.3)").getMemoryObjectRelinquishFutex();
                    Check.that(r.getTry(), "the relinquish for a trylock must have try set (spec 8.3)");
                    a.send(Messages.held(OBJECT_ID, futex, token));
                    p.busy(b, futex, "A answered futex_held (spec 8.3)");
                }),
                must("8.3-trylock-cached", "a trylock of a futex cached free elsewhere is granted once the holder "
                        + "releases it", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    b.send(Messages.lockFutex(OBJECT_ID, futex, true, 0));
                    p.relinquish(a, futex, "B tries the futex A caches");
                    a.send(Messages.released(OBJECT_ID, futex, token, false));
                    p.granted(b, futex, "A gave the futex back for B's trylock");
                }),
                should("8.3-release-to-try-first", "a release that answers a relinquish with try grants the try, "
                        + "ahead of a kernel queued since and of the releaser's request_again below the try's priority",
                        p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    FakeKernel c = p.kernel("c");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    b.send(Messages.lockFutex(OBJECT_ID, futex, true, 30));
                    var r = p.relinquish(a, futex, "B tries the futex A holds, at priority 30 (spec 8.3)")
                            .getMemoryObjectRelinquishFutex();
                    Check.that(r.getTry(), "the relinquish for a trylock must have try set (spec 8.3)");
                    c.send(Messages.lockFutex(OBJECT_ID, futex, false, 5));
                    p.relinquish(a, futex, "C waits for the futex at priority 5 (spec 8.4)");
                    // A's woken heir (20) has not run: A gives the futex up to the try above it and
                    // asks again for its heir inside the release (spec 8.3, 8.4)
                    a.send(Messages.releasedAskingAgain(OBJECT_ID, futex, token, 20));
                    MemoryObjectFutexGranted g = p.granted(b, futex, "A released it in answer to B's try (30), "
                            + "asking again at 20; C queued after the try (spec 8.3)");
                    Check.that(g.getRelinquish() && g.getRelinquishPriority() == 20, "A (20) and C (5) wait: the grant "
                            + "to B must carry relinquish with relinquish_priority 20 (spec 8.3, 8.6); it carries "
                            + "relinquish " + g.getRelinquish() + ", priority " + g.getRelinquishPriority());
                    c.expectNone("C (5) must not be granted while B holds the futex", m -> Check.isGrant(m, futex));
                }),
                must("8.6-priority-order", "kernels waiting for a futex are granted it highest priority first", p -> {
                    HeldAndQueued q = HeldAndQueued.of(p, 10, 50);
                    q.aReleases();
                    p.granted(q.c(), q.futex(), "C waits with priority 50, B with 10 (spec 8.6)");
                    q.b().expectNone("B (priority 10) must not be granted before C (priority 50) releases",
                            m -> Check.isGrant(m, q.futex()));
                }),
                must("8.6-priority-update", "lock_futex with update moves a queued kernel: one raised above "
                        + "another waiter is granted first", p -> {
                    HeldAndQueued q = HeldAndQueued.of(p, 10, 20);
                    q.b().send(Messages.updateFutex(OBJECT_ID, q.futex(), 30));
                    q.b().sync();
                    q.aReleases();
                    p.granted(q.b(), q.futex(), "B raised its waiting priority from 10 to 30, above C's 20 (spec 8.3 "
                            + "update, 8.6)");
                    q.c().expectNone("C (priority 20) must not be granted before B (raised to 30) releases",
                            m -> Check.isGrant(m, q.futex()));
                }),
                must("8.3-grant-carries-relinquish", "a grant made while other kernels wait carries relinquish and "
                        + "the top waiting priority, and no separate relinquish_futex follows", p -> {
                    HeldAndQueued q = HeldAndQueued.of(p, 5, 7);
                    long futex = q.futex();
                    FakeKernel c = q.c();
                    q.aReleases();
                    MemoryObjectFutexGranted g = p.granted(c, futex, "C waits with priority 7, B with 5");
                    Check.that(g.getRelinquish() && g.getRelinquishPriority() == 5, "B still waits (priority 5): the "
                            + "grant to C must carry relinquish with relinquish_priority 5 (spec 8.3); it carries "
                            + "relinquish " + g.getRelinquish() + ", priority " + g.getRelinquishPriority());
                    c.expectNone("a grant that carried the relinquish is followed by no separate relinquish_futex "
                            + "(spec 8.3)", m -> m.hasMemoryObjectRelinquishFutex()
                                    && m.getMemoryObjectRelinquishFutex().getOffset() == futex);
                }),
                should("8.6-relinquish-priority", "relinquish_futex carries the highest priority waiting elsewhere",
                        p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    p.lock(a, futex);
                    b.send(Messages.lockFutex(OBJECT_ID, futex, false, 42));
                    var r = p.relinquish(a, futex, "B waits with priority 42").getMemoryObjectRelinquishFutex();
                    Check.that(r.getPriority() == 42, "relinquish_futex must carry priority 42 (spec 8.6); it carries "
                            + r.getPriority());
                }),
                should("8.4-handoff", "a release with handoff makes the next grant carry handoff", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long token = p.lockWithWaiter(a, b, futex);
                    a.send(Messages.released(OBJECT_ID, futex, token, true));
                    Check.that(p.granted(b, futex, "A handed it off").getHandoff(), "the grant after a release with "
                            + "handoff must carry handoff (spec 8.4)");
                }),
                must("8.4-stale-heir-carried", "a release naming a stale heir's TID (stale_heir_tid) makes the next "
                        + "grant name it without owner_died, to a kernel that named the feature, and say owner_died "
                        + "instead to one that did not", p -> {
                    FakeKernel a = p.kernel("a", "stale_heir_tid");
                    if (!a.welcome().getCarriesStaleHeirTid()) {
                        throw new Skipped("the target's welcome does not say carries_stale_heir_tid (optional, spec "
                                + "8.4: a kernel gives such a futex back with owner_died instead)");
                    }
                    FakeKernel b = p.kernel("b", "stale_heir_tid");
                    FakeKernel c = p.kernel("c");
                    long futex = p.freshPage();
                    int stale = a.welcome().getKernelId() << 20 | 5; // a thread of A's that owns nothing
                    long token = p.lockWithWaiter(a, b, futex);
                    a.send(Messages.releasedNamingStaleHeir(OBJECT_ID, futex, token, stale));
                    MemoryObjectFutexGranted toB = p.granted(b, futex, "A released it naming a stale heir");
                    Check.that(toB.getStaleHeirTid() == stale && !toB.getOwnerDied(), "the grant after a release with "
                            + "stale_heir_tid " + stale + " must name it without owner_died (spec 8.4); it has "
                            + "stale_heir_tid " + toB.getStaleHeirTid() + ", owner_died " + toB.getOwnerDied());
                    c.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    p.relinquish(b, futex, "C waits for the futex (spec 8.4)");
                    // B never had the page writable to rewrite the word: it names the TID again
                    b.send(Messages.releasedNamingStaleHeir(OBJECT_ID, futex, toB.getFencingToken(), stale));
                    MemoryObjectFutexGranted toC = p.granted(c, futex, "B released it naming the stale heir again");
                    Check.that(toC.getOwnerDied() && toC.getStaleHeirTid() == 0, "a kernel whose hello did not name "
                            + "stale_heir_tid must be granted with owner_died and no stale_heir_tid (spec 8.4); it has "
                            + "stale_heir_tid " + toC.getStaleHeirTid() + ", owner_died " + toC.getOwnerDied());
                    // A holder that leaves without a release leaves the TID with the futex; a release
                    // without the field clears it (review heirflag LOW-3).
                    FakeKernel d = p.kernel("d", "stale_heir_tid");
                    long futex2 = p.freshPage();
                    long token2 = p.lockWithWaiter(a, b, futex2);
                    a.send(Messages.releasedNamingStaleHeir(OBJECT_ID, futex2, token2, stale));
                    Check.that(p.granted(b, futex2, "A released another futex naming the stale heir").getStaleHeirTid()
                            == stale, "the grant after a release with stale_heir_tid must name it (spec 8.4)");
                    d.send(Messages.lockFutex(OBJECT_ID, futex2, false, 0));
                    p.relinquish(b, futex2, "D waits for the futex (spec 8.4)");
                    b.send(io.machxp.proto.xp.KernelToPager.newBuilder().setMemoryObjectTerminate(
                            io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(OBJECT_ID)).build());
                    MemoryObjectFutexGranted toD = p.granted(d, futex2, "B terminated the object without a release");
                    Check.that(toD.getStaleHeirTid() == stale && !toD.getOwnerDied(), "a holder that left without a "
                            + "release leaves the TID with the futex: the next grant must name it again (spec 8.4); it "
                            + "has stale_heir_tid " + toD.getStaleHeirTid() + ", owner_died " + toD.getOwnerDied());
                    a.send(Messages.lockFutex(OBJECT_ID, futex2, false, 0));
                    p.relinquish(d, futex2, "A waits for the futex (spec 8.4)");
                    d.send(Messages.released(OBJECT_ID, futex2, toD.getFencingToken(), false));
                    MemoryObjectFutexGranted toA = p.granted(a, futex2, "D released it without stale_heir_tid");
                    Check.that(toA.getStaleHeirTid() == 0 && !toA.getOwnerDied(), "a release without stale_heir_tid "
                            + "clears it: the next grant must name neither (spec 8.4); it has stale_heir_tid "
                            + toA.getStaleHeirTid() + ", owner_died " + toA.getOwnerDied());
                }),
                must("5.3-terminate-releases", "terminating the object releases the futexes held in it to the next "
                        + "waiter", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    p.lockWithWaiter(a, b, futex);
                    a.send(io.machxp.proto.xp.KernelToPager.newBuilder().setMemoryObjectTerminate(
                            io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(OBJECT_ID)).build());
                    MemoryObjectFutexGranted g = p.granted(b, futex, "A terminated the object (spec 5.3)");
                    Check.that(!g.getOwnerDied(), "a terminate is no death: no owner_died (spec 5.3)");
                }),
                must("8.8-page-follows-futex", "a page released with a futex reaches its next holder: in the grant, "
                        + "or by a page-in", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    long futex = p.freshPage();
                    long token = p.lock(a, futex).getFencingToken();
                    Check.Page before = p.write(a, futex, "A pages the futex's page in");
                    b.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    p.relinquish(a, futex, "B waits");
                    byte[] data = Messages.pattern(p.pageSize(), futex + 5);
                    a.send(Messages.released(OBJECT_ID, futex, token, false, PageData.newBuilder().setOffset(futex)
                            .setData(ByteString.copyFrom(data)).setDirty(true).setVersion(before.version() + 1).build()));
                    MemoryObjectFutexGranted g = p.granted(b, futex, "A released it with its page");
                    byte[] seen;
                    if (g.getPagesCount() > 0) {
                        Check.that(g.getPages(0).getOffset() == futex, "the grant carries another page than the one "
                                + "released: 0x" + Long.toHexString(g.getPages(0).getOffset()));
                        seen = g.getPages(0).getData().toByteArray();
                    } else {
                        b.send(Messages.dataRequest(OBJECT_ID, futex, p.pageSize(), VmProt.VM_PROT_READ));
                        seen = Check.supplied(b, futex, p.pageSize(), "B pages the futex's page in").data();
                    }
                    Check.that(Arrays.equals(seen, data), "the next holder must see the page released with the futex "
                            + "(spec 8.8)");
                }),
                must("8.1-unaligned-dropped", "lock_futex at an offset that is not 4-byte aligned is dropped", p -> {
                    FakeKernel a = p.kernel("a");
                    long futex = p.freshPage() + 2;
                    a.send(Messages.lockFutex(OBJECT_ID, futex, false, 0));
                    a.expectNone("an unaligned futex must not be granted (spec 8.1)", m -> Check.isGrant(m, futex));
                    Check.that(!a.ended(), "a dropped message must not end the stream (spec 3.4)");
                }));
    }
}
