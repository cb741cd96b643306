package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.that;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.conform.ConformCase;
import io.machxp.conform.Skipped;
import io.machxp.conform.Violation;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.xp.ObjectDispute;
import java.util.List;

/**
 * Kernel cases of spec section 2.8, the kernel's side of a directory dispute (dir2-review M1): a
 * pager's welcome lists an object in dispute (another kernel, given another pager directory, uses
 * it at that pager), and a kernel whose hello named directory_disputes MUST NOT take it into use at
 * any pager (2.8, 12.43). The pager then trusts the kernel: one that ignored the list would use a
 * second copy of the object. The kit's pager lists only to a kernel that named the feature (6.12:
 * a pager sends nothing a kernel did not name), so the case is skipped for one that does not.
 *
 * <pre>
 *  2.8-disputed-not-mapped   the kit ends the session (as a pager that declared the kernel dead,
 *                            4.5); the next session's welcome lists an object the kit serves;
 *                            a vm_map of it fails and no memory_object_init of it comes, while
 *                            another object maps as usual; then (a kernel that resumes, 4.7) the
 *                            session stalls and is resumed, the resume's welcome listing nothing:
 *                            the vm_map still fails, no init of it comes (the list is kept)
 * </pre>
 * It ends a session: it runs with the cases that do, last.
 */
final class KernelDirectoryCases {
    private KernelDirectoryCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("2.8-disputed-not-mapped", "an object a new session's welcome lists in dispute is mapped at no "
                        + "pager by a kernel that named directory_disputes: its vm_map fails, no memory_object_init "
                        + "of it is sent; another object maps as usual; after a resume of the session (whose welcome "
                        + "lists nothing) still so", p -> {
                    p.pager().offerResume(true); // the new session can be resumed: a resume keeps the list
                    try {
                        disputedNotMapped(p);
                    } finally {
                        p.pager().refuseNextHello(null);
                        p.pager().offerResume(false);
                    }
                }).waitingLeases());
    }

    /** Case 2.8-disputed-not-mapped (the pager offers resume meanwhile). */
    private static void disputedNotMapped(KernelProbe p) {
        ServedObject listed = p.serve(4);
        ServedObject other = p.serve(4);
        KernelLink old = p.link();
        KernelLink now;
        p.pager().listInNewWelcomes(List.of(ObjectDispute.newBuilder().setObject(listed.name())
                .setReason("the conformance kit's pager says another kernel, given another pager "
                        + "directory, uses this object here").build()));
        try {
            old.end(FakePager.error(Status.Code.FAILED_PRECONDITION, "ETIMEDOUT", "the conformance kit "
                    + "ends this session to open one whose welcome lists an object in dispute"));
            try {
                now = p.pager().awaitSession(old, p.deadline());
            } catch (Violation e) {
                throw new Skipped("the kernel opened no new session after the kit's pager ended its "
                        + "session; the case needs a new session's welcome");
            }
        } finally {
            p.pager().listInNewWelcomes(List.of());
        }
        if (!now.hello().getFeaturesList().contains("directory_disputes")) {
            throw new Skipped("the kernel's hello does not name directory_disputes (optional, spec 2.8, "
                    + "6.12): the kit's pager lists no dispute to it");
        }
        KernelResumeCases.awaitServing(p);
        KernelProbe.Mapping m = p.map(other); // it took the welcome: it maps on the new session
        String refused = null;
        try {
            p.tasks().vmMap(VmMapRequest.newBuilder().setTask(p.task()).setObject(listed.name()).build());
        } catch (StatusRuntimeException e) {
            refused = e.getStatus().getDescription();
            that(refused != null && !refused.isBlank(), "the vm_map of the object in dispute failed "
                    + "with " + e.getStatus().getCode() + " but no sentence (spec 11.1)");
        }
        that(refused != null, "the vm_map of '" + listed.name() + "' succeeded although the pager's "
                + "welcome listed it in dispute: a kernel that named directory_disputes MUST NOT take a "
                + "listed object into use at any pager, whatever its own directory says of the object "
                + "(spec 2.8, 12.43: a kernel does not second-guess the list). The kit lists an object "
                + "the kernel's view sends to the kit's pager itself (its only pager), which a real "
                + "pager would not; the rule holds all the same, since the kernel cannot tell whose "
                + "directory is wrong");
        p.sync(m); // the kernel has handled, and sent, all before
        that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectInit()
                && x.getMemoryObjectInit().getName().equals(listed.name())), "the kernel sent "
                + "memory_object_init of '" + listed.name() + "', which the welcome listed in dispute "
                + "(spec 2.8: it takes it into use at no pager)");
        // A resume's welcome lists nothing, and the kernel keeps the list (2.8; dir2-review M1: a
        // kernel that kept it only until a resume would map the object then). Not checked for a
        // kernel that does not resume (optional, 4.7).
        if (KernelResumeCases.resumed(p, now) == null) {
            return;
        }
        KernelProbe.Mapping after = p.map(p.serve(4));
        String again = null;
        try {
            p.tasks().vmMap(VmMapRequest.newBuilder().setTask(p.task()).setObject(listed.name()).build());
        } catch (StatusRuntimeException e) {
            again = e.getStatus().getDescription();
        }
        that(again != null, "after the kernel resumed its session (the resume's welcome lists nothing, "
                + "as a pager's does), the vm_map of '" + listed.name() + "', which the new session's "
                + "welcome listed in dispute, succeeded: the list is that pager's word until the kernel's "
                + "next new session with it, and a resume keeps it (spec 2.8, 12.43)");
        p.sync(after);
        that(after.link().pending().stream().noneMatch(x -> x.hasMemoryObjectInit()
                && x.getMemoryObjectInit().getName().equals(listed.name())), "after the kernel resumed "
                + "its session, it sent memory_object_init of '" + listed.name() + "', which the new "
                + "session's welcome listed in dispute: a resume keeps the list (spec 2.8)");
    }
}
