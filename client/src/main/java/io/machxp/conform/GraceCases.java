package io.machxp.conform;

import static io.machxp.conform.PagerCases.should;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import java.util.List;
import java.util.function.Predicate;

/**
 * Cases of spec 9.3 on what a pager does with a reclaimed kernel's requests in its grace period
 * after a restart. In grace a pager has only the views (2.8) of the kernels that reclaimed so far:
 * an init of an object nobody reclaimed, answered at once, would be judged without the view of a
 * kernel that uses the object at another pager and has not reclaimed yet, and a second copy could
 * start with every kernel connected (dir3-review MED-1). So a pager SHOULD hold such an init until
 * grace ends and judge it then, with every view that came back.
 *
 * <pre>
 *  9.3-grace-init-held   kernels w (a single pager's view: the object here) and c (two pagers,
 *                        the object at the other) say hello; the target restarts; w reclaims,
 *                        holding nothing, and initializes the object: no answer by a keepalive
 *                        barrier (held); c reclaims; w's init is answered only once the grace
 *                        period may have ended (a lease or more after the restart began), with
 *                        memory_object_destroy (c's view sends the object elsewhere); nobody's
 *                        session ends
 * </pre>
 * Skipped if the restarted target refuses reclaims (ESTALE, {@link PagerProbe#reclaimRefused}).
 * The kit's object must be used by nobody else at the target (as in every restart case: the kit
 * restarts the target and owns it): an object another kernel reclaimed is answered at once, rightly.
 */
final class GraceCases {
    private GraceCases() {}

    /** An answer to an init: memory_object_ready or _destroy. */
    private static final Predicate<PagerToKernel> ANSWER = m -> m.hasMemoryObjectReady() || m.hasMemoryObjectDestroy();

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                should("9.3-grace-init-held", "in its grace period after a restart, a reclaimed kernel's "
                        + "memory_object_init of an object nobody reclaimed is held until the grace period ends, then "
                        + "judged with the views of the kernels that reclaimed meanwhile (refused: another kernel's "
                        + "view sends the object elsewhere); nobody's session ends", p -> {
                    FakeKernel w0 = p.open("w");
                    PagerWelcome wBefore = w0.hello(DirectoryCases.hello(w0, DirectoryCases.single()));
                    FakeKernel c0 = p.open("c");
                    c0.send(KernelToPager.newBuilder().setKernelHello(DirectoryCases.hello(c0,
                            DirectoryCases.elsewhere(p))));
                    PagerToKernel cw;
                    try {
                        cw = c0.await("pager_welcome answering kernel c's hello", PagerToKernel::hasPagerWelcome);
                    } catch (Violation refused) {
                        throw new Skipped("kernel c's hello (its view sends '" + p.object() + "' to another pager) "
                                + "was not welcomed before the restart (" + refused.getMessage() + "): another kernel "
                                + "uses the object at the target, so there is nothing to hold");
                    }
                    long lease = wBefore.getLeaseMillis();
                    if (lease <= 0) {
                        throw new Skipped("the target gives no lease (lease_millis 0 in its welcome): it has no grace "
                                + "period to hold anything in");
                    }
                    p.restart();
                    FakeKernel w = p.open("w"); // w again, under its own name (a reclaim, spec 9.4)
                    PagerWelcome ww = reclaim(p, w, wBefore.getKernelId(), DirectoryCases.single());
                    w.send(Messages.init(PagerProbe.OBJECT_ID, p.object(), ww.getPageSize()));
                    w.sync(); // the pager has handled the init by now, or holds it (spec 4.2)
                    long synced = p.millisSinceRestart();
                    if (w.holds(ANSWER)) {
                        PagerToKernel early = w.await("the answer to kernel w's init", ANSWER);
                        if (synced >= lease) {
                            throw p.lateAnswer("kernel w's init of '" + p.object() + "'", synced, lease);
                        }
                        throw new Violation("kernel w's memory_object_init of '" + p.object() + "', an object no "
                                + "kernel reclaimed, was answered in the target's grace period (" + Messages.describe(early)
                                + " by " + synced + " ms after the restart began, under a lease of " + lease
                                + " ms): a pager SHOULD hold it until grace ends (spec 9.3, 2.8). Answered now it is "
                                + "judged without the views of the kernels that have not reclaimed yet (kernel c's sends "
                                + "it to another pager), and the order of the reclaims decides whether a second copy "
                                + "starts");
                    }
                    FakeKernel c = p.open("c");
                    reclaim(p, c, cw.getPagerWelcome().getKernelId(), DirectoryCases.elsewhere(p));
                    PagerToKernel answer = w.await("the answer to kernel w's init once the grace period ends", ANSWER);
                    long answered = p.millisSinceRestart();
                    Check.that(answered >= lease, "kernel w's init of '" + p.object() + "', held at first, was answered "
                            + answered + " ms after the restart began, sooner than a lease (" + lease + " ms), so in "
                            + "the grace period (spec 9.2: it starts no earlier and lasts a lease at least): it SHOULD "
                            + "be held until grace ends (spec 9.3)");
                    Check.that(answer.hasMemoryObjectDestroy() && !answer.getMemoryObjectDestroy().getReason()
                            .isEmpty(), "kernel w's init of '" + p.object() + "', held until the grace period ended, "
                            + "was answered " + Messages.describe(answer) + ": kernel c, which reclaimed in grace, "
                            + "states a view that sends the object to another pager, so the init SHOULD be judged with "
                            + "it and refused with memory_object_destroy and a reason (spec 9.3, 2.8): else two copies "
                            + "of the object are used");
                    w.sync();
                    c.sync();
                    Check.that(!w.ended() && !c.ended(), "a kernel's session ended over the held init: a pager MUST "
                            + "NOT end a kernel's session for another kernel's view or init (spec 2.8)");
                }).restarting());
    }

    /**
     * {@code k}'s reclaim (version 1, in one message, naming nothing) of kernel id {@code kernelId}
     * with {@code view}, and its welcome; a Skipped if the target refuses it (ESTALE, {@link
     * PagerProbe#reclaimRefused}).
     */
    private static PagerWelcome reclaim(PagerProbe p, FakeKernel k, int kernelId, PagerDirectoryView view) {
        k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name())
                .setProtocolVersion(1).setDirectory(view).setReclaim(Reclaim.newBuilder().setKernelId(kernelId))));
        try {
            return k.await("pager_welcome answering the reclaim (spec 9.4)", PagerToKernel::hasPagerWelcome)
                    .getPagerWelcome();
        } catch (Violation e) {
            if (k.ended() && k.errorInfo() != null && "ESTALE".equals(k.errorInfo().getReason())) {
                throw p.reclaimRefused();
            }
            throw e;
        }
    }
}
