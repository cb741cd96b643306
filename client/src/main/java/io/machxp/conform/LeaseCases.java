package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.grpc.Status;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.Reclaim;
import java.util.Arrays;
import java.util.List;

/**
 * Cases of spec sections 4 (leases, death) and 9 (start-up, reclaim). They take about a lease
 * each: run the target with a short lease for the kit (a few hundred milliseconds).
 */
final class LeaseCases {
    private LeaseCases() {}

    private static final int WAITERS = 0x80000000;
    private static final int OWNER_DIED = 0x40000000;

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("4.5-owner-died", "the futex of a kernel that goes silent goes to the next waiter with owner_died "
                        + "once its lease ran out", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    p.leaseMillis();
                    long futex = p.freshPage();
                    p.lockWithWaiter(a, b, futex);
                    a.silence();
                    MemoryObjectFutexGranted g = p.granted(b, futex, "A went silent and its lease ran out (spec 4.5)");
                    long waited = (System.nanoTime() - a.lastSentNanos()) / 1_000_000;
                    Check.that(g.getOwnerDied(), "the grant after the holder was declared dead must carry owner_died "
                            + "(spec 8.7)");
                    Check.that(waited >= p.leaseMillis() * 19 / 20, "B was granted " + waited + " ms after A last "
                            + "sent anything: a pager must wait a whole lease (" + p.leaseMillis() + " ms) since it "
                            + "last heard from A (spec 4.1)");
                }).waitingLeases(),
                must("4.5-owner-died-kept", "the next owner of a futex whose holder died while nobody waited learns "
                        + "of the death: owner_died in its grant, or OWNER_DIED (TID 0) in the word it pages in", p -> {
                    FakeKernel a = p.kernel("a");
                    p.leaseMillis();
                    long futex = p.freshPage();
                    p.lock(a, futex);
                    // A's thread takes the futex as a kernel's does: its page writable there, its TID
                    // written into A's copy of the word (spec 8.2), never given back (it dies first).
                    p.write(a, futex, "A pages the futex's page in writable to take the futex");
                    a.silence();
                    try {
                        a.awaitEnd("A went silent holding a futex nobody waits for (spec 4.5)");
                    } catch (Violation e) {
                        throw new Skipped("the target did not end the stream of a kernel that went silent (a SHOULD "
                                + "of spec 4.5), so the kit cannot tell when it declared it dead");
                    }
                    FakeKernel b = p.kernel("b");
                    MemoryObjectFutexGranted g = p.lock(b, futex);
                    int word = ownerWord(b, g, futex, p);
                    Check.that(g.getOwnerDied() || (word & ~WAITERS) == OWNER_DIED, "B, the next owner, must learn "
                            + "that A died holding the futex: by owner_died in its grant (spec 8.7; the flag stays "
                            + "with the futex until a grant carries it) or by OWNER_DIED with no owner in the futex "
                            + "word of the page it pages in (the pager's own recording, spec 8.7, as Linux's "
                            + "robust-list walk); the grant said no owner_died and the word is 0x"
                            + Integer.toHexString(word) + " (spec 4.5, 8.7)");
                }).waitingLeases(),
                should("4.5-dead-stream-ends", "the stream of a kernel declared dead ends: FAILED_PRECONDITION / "
                        + "ETIMEDOUT", p -> {
                    FakeKernel a = p.kernel("a");
                    p.leaseMillis();
                    p.lock(a, p.freshPage());
                    a.silence();
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "ETIMEDOUT", "A went silent for a lease");
                }).waitingLeases(),
                must("4.4-broken-stream-holds", "the futex of a kernel whose stream broke stays its own until its lease "
                        + "ends, then goes on with owner_died", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    p.leaseMillis();
                    long futex = p.freshPage();
                    p.lockWithWaiter(a, b, futex);
                    a.breakStream();
                    MemoryObjectFutexGranted g = p.granted(b, futex, "A's stream broke and its lease ran out (spec 4.4)");
                    Check.that(g.getOwnerDied(), "a futex whose holder's stream broke must go on with owner_died once "
                            + "its lease ran out, not be released at once (spec 4.4, 4.5)");
                }).waitingLeases(),
                must("4.5-pages-revert", "the page a dead kernel held writable goes to the next kernel with the "
                        + "pager's copy", p -> {
                    FakeKernel a = p.kernel("a");
                    FakeKernel b = p.kernel("b");
                    p.leaseMillis();
                    long page = p.freshPage();
                    Check.Page before = p.write(a, page, "A's write");
                    a.silence();
                    Check.Page got = p.read(b, page, "A died holding the page (spec 4.5)");
                    Check.that(Arrays.equals(got.data(), before.data()) && got.version() == before.version(),
                            "B must get the pager's copy (version " + before.version() + "), got version "
                                    + got.version());
                }).waitingLeases(),
                must("9.4-reclaim-refused-running", "a reclaim to a pager that is not in a grace period is refused: "
                        + "FAILED_PRECONDITION / ESTALE", p -> {
                    FakeKernel a = p.open("a");
                    a.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(a.name())
                            .setProtocolVersion(1).setReclaim(Reclaim.newBuilder().setKernelId(1))));
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "ESTALE", "a reclaim outside a grace period");
                }).waitingLeases(),
                must("9.2-no-grant-before-leases-end", "a restarted pager grants nothing until the leases of the "
                        + "last one have run out", p -> {
                    FakeKernel a = p.kernel("a");
                    long lease = p.leaseMillis();
                    long futex = p.freshPage();
                    p.lock(a, futex); // A holds it when the pager restarts, and could go on using it for a lease
                    a.silence();
                    long restartBegan = System.nanoTime(); // the last pager dies after this
                    p.restart();
                    FakeKernel b = p.kernel("b");
                    MemoryObjectFutexGranted g = p.lock(b, futex);
                    long waited = (System.nanoTime() - restartBegan) / 1_000_000;
                    // A may use the futex until a lease after the last pager died, which is after the
                    // restart began: a grant sooner than a lease after that is early for certain.
                    Check.that(waited >= lease, "B was granted the futex " + waited + " ms after the pager's restart "
                            + "began: it must grant nothing until the lease (" + lease + " ms) of the last pager's "
                            + "kernels has run out (spec 9.2)");
                    Check.that(g.getFencingToken() != 0, "the grant carries no token");
                }).restarting());
    }

    /**
     * The futex word as the grantee {@code k} sees it: in the page its grant carried (spec 8.8), else
     * in the page it pages in writable, as a kernel whose thread takes the futex does.
     */
    private static int ownerWord(FakeKernel k, MemoryObjectFutexGranted g, long futex, PagerProbe p) {
        long page = futex - futex % p.pageSize();
        byte[] data = g.getPagesList().stream().filter(d -> d.getOffset() == page).findFirst()
                .map(d -> d.getData().toByteArray())
                .orElseGet(() -> p.write(k, page, "B pages the futex's page in to take the futex").data());
        int at = (int) (futex - page);
        return java.nio.ByteBuffer.wrap(data, at, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
