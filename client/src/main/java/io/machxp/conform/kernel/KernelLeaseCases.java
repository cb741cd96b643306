package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.that;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.conform.ConformCase;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmFutexConsistentRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import io.machxp.proto.xp.VmProt;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Kernel cases of spec sections 4.3 (the kernel's lease) and 9.4 (reclaim after a pager restart).
 * Both end the kernel's session on the kit's pager (it opens a new one): they run last.
 */
final class KernelLeaseCases {
    private KernelLeaseCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("9.4-reclaim", "after the pager restarts, the kernel reconnects within its lease with a reclaim "
                        + "naming its id, objects, futexes (tokens) and pages (access, version), and keeps them",
                        p -> {
                    long off = 8;
                    long page = 2L * p.pageSize();
                    KernelFutexCases.Cached c = KernelFutexCases.cached(p, off);
                    KernelProbe.Mapping m = c.m();
                    int t = c.thread();
                    long token = c.token();
                    m.object().put(page, new byte[p.pageSize()], 5);
                    KernelPageCases.write(p, m, page, KernelPageCases.pattern(32, 21));
                    KernelLink old = m.link();
                    p.pager().restart();
                    KernelLink now = p.pager().awaitSession(old, p.deadline());
                    KernelHello h = now.hello();
                    that(h.hasReclaim(), "the kernel's hello after the pager restarted carries no reclaim (spec 9.4)");
                    that(h.getReclaim().getKernelId() == old.kernelId(), "the reclaim names kernel id "
                            + h.getReclaim().getKernelId() + "; the kernel had " + old.kernelId());
                    ReclaimedObject o = h.getReclaim().getObjectsList().stream()
                            .filter(x -> x.getName().equals(m.object().name())).findFirst().orElse(null);
                    that(o != null && o.getObjectId() == m.objectId() && o.getPageSize() == p.pageSize(), "the "
                            + "reclaim does not name object '" + m.object().name() + "' under id " + m.objectId()
                            + " with page size " + p.pageSize());
                    ReclaimedFutex f = o.getFutexesList().stream().filter(x -> x.getOffset() == off).findFirst()
                            .orElse(null);
                    that(f != null && f.getFencingToken() == token, "the reclaim does not name the futex it holds at "
                            + "0x" + Long.toHexString(off) + " with its token " + token + ": " + o.getFutexesList());
                    ReclaimedPage rp = o.getPagesList().stream().filter(x -> x.getOffset() == page).findFirst()
                            .orElse(null);
                    that(rp != null && (rp.getAccess() == VmProt.VM_PROT_READ_WRITE || rp.getAccess()
                            == VmProt.VM_PROT_NONE && !rp.getData().isEmpty()), "the reclaim does not name the page "
                            + "it holds written at 0x" + Long.toHexString(page) + " writable (or its dirty data)");
                    that(rp.getVersion() == 5, "the reclaimed page names version " + rp.getVersion() + "; it was "
                            + "supplied at version 5 (spec 9.4)");
                    VmLockFutexReply r = p.tasks().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task())
                            .setThread(t).setAddress(m.address() + off).build());
                    that(r.getPath() != AcquirePath.PAGER_GRANT && r.getFencingToken() == token, "after the reclaim "
                            + "the kernel's futex is still its own (token " + token + "), but the lock went "
                            + r.getPath() + " with token " + r.getFencingToken());
                    that(Arrays.equals(KernelPageCases.read(p, m, page, 32), KernelPageCases.pattern(32, 21)),
                            "the written page does not read back after the reclaim");
                    KernelFutexCases.unlock(p, t, m, off);
                }).waitingLeases(),
                must("9.4-reclaim-owner-died", "a futex granted with owner_died, taken with EOWNERDEAD, marked "
                        + "consistent and unlocked (OWNER_DIED recorded in the kernel's copy of the word only), is "
                        + "reclaimed with owner_died after the pager restarts", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    long off = 20;
                    ListenableFuture<VmLockFutexReply> lock = KernelFutexCases.lock(p, m, t, off);
                    p.lockFutex(m, off, "a lock of a futex not held");
                    long token = p.grant(m, off, true, false);
                    VmLockFutexReply r = (VmLockFutexReply) KernelPageCases.getUnchecked(lock, p);
                    that(r.getOwnerDied(), "the grant carried owner_died; vm_lock_futex must say owner_died "
                            + "(spec 8.7, 11.1 EOWNERDEAD)");
                    p.tasks().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(p.task()).setThread(t)
                            .setAddress(m.address() + off).build());
                    KernelFutexCases.unlock(p, t, m, off); // cached here, free: nothing told to the pager
                    KernelLink old = m.link();
                    p.pager().restart();
                    KernelLink now = p.pager().awaitSession(old, p.deadline());
                    KernelHello h = now.hello();
                    that(h.hasReclaim(), "the kernel's hello after the pager restarted carries no reclaim (spec 9.4)");
                    ReclaimedFutex f = h.getReclaim().getObjectsList().stream()
                            .filter(x -> x.getName().equals(m.object().name()))
                            .flatMap(x -> x.getFutexesList().stream()).filter(x -> x.getOffset() == off).findFirst()
                            .orElse(null);
                    that(f != null && f.getFencingToken() == token, "the reclaim does not name the futex it holds at "
                            + "0x" + Long.toHexString(off) + " with its token " + token);
                    that(f.getOwnerDied(), "the reclaim names the futex at 0x" + Long.toHexString(off) + " without "
                            + "owner_died: its grant said owner_died and the pager was never given the word that "
                            + "records it, so a restarted pager would lose the death if this kernel died in turn "
                            + "(its copy lost, the page back to one naming the dead thread; spec 9.4, 12.6)");
                }).waitingLeases(),
                must("9.4-reclaim-refused", "a kernel whose reclaim the pager refuses (FAILED_PRECONDITION / ESTALE) "
                        + "stops handing out what it held", p -> {
                    KernelFutexCases.Cached c = KernelFutexCases.cached(p, 16);
                    KernelProbe.Mapping m = c.m();
                    KernelLink old = m.link();
                    p.pager().refuseNextHello(h -> h.hasReclaim() ? FakePager.error(Status.Code.FAILED_PRECONDITION,
                            "ESTALE", "the conformance kit's pager restarted without the pages: it takes no reclaim")
                            : null);
                    p.pager().restart();
                    old.awaitCondition("a reclaim, refused with ESTALE", () -> p.pager().refused() > 0, p.deadline());
                    try {
                        // a kernel that went on opens a new session (spec 9.1); one that does not is lease-bound
                        p.pager().awaitSession(old, Math.min(p.deadline(), System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(p.leaseMillis())));
                    } catch (io.machxp.conform.Violation e) {
                        // no new session: the lock below must fail all the same
                    }
                    expectStopped(p, c, "after the pager refused its reclaim (spec 9.4, 9.5, 9.7)");
                }).waitingLeases(),
                must("4.3-lease-stops-cache", "a kernel whose keepalives go unanswered for a lease stops handing out "
                        + "its cached futexes", p -> {
                    KernelFutexCases.Cached c = KernelFutexCases.cached(p, 12);
                    KernelProbe.Mapping m = c.m();
                    m.link().silence(true);
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(p.leaseMillis());
                    for (long left; (left = until - System.nanoTime()) > 0; ) {
                        LockSupport.parkNanos(left); // the kernel's lease runs out unanswered
                    }
                    try {
                        expectStopped(p, c, "a lease (" + p.leaseMillis() + " ms) after its last keepalive "
                                + "was answered (spec 4.3: it stops L/5 before the pager may count it dead)");
                    } finally {
                        m.link().silence(false);
                    }
                }).waitingLeases());
    }

    /**
     * vm_lock_futex of a futex the kernel had cached must fail now: EIO, or ESRCH once the kernel
     * retired the task with its session.
     */
    private static void expectStopped(KernelProbe p, KernelFutexCases.Cached c, String when) {
        VmLockFutexReply r;
        try {
            r = p.tasks().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task()).setThread(c.thread())
                    .setAddress(c.m().address() + c.offset()).build());
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            that(code == Status.Code.UNAVAILABLE || code == Status.Code.NOT_FOUND, when + ", the lock must fail with "
                    + "UNAVAILABLE / EIO (or NOT_FOUND / ESRCH once the task was retired), not " + e.getStatus());
            return;
        }
        throw new io.machxp.conform.Violation(when + ", the kernel still handed out its cached futex (" + r.getPath()
                + ")");
    }
}
