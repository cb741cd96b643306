package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import java.util.List;

/**
 * Cases of spec 2.8: kernels that state different pager directories. A view "elsewhere" sends the
 * object under test to another pager (two pagers, this one 0, the object assigned to pager 1); a
 * view "single" is a single pager's, so it sends the object here. In others-kept, a (elsewhere)
 * holds nothing here and b (single) says hello and initializes the object: a pager MUST NOT end
 * a's session for it, whatever it answers b (an earlier machxp pager ended every kernel whose
 * view disputed an init: one misconfigured kernel ended every correct one). The pager may also
 * have sessions of other tenants or of earlier cases; by 2.8 only sessions that stated a view
 * count, so they change nothing here. In hello-refused, a (single) uses the object here and b's
 * hello (elsewhere, not naming directory_disputes) is refused; in disputes-listed, the same hello
 * naming directory_disputes is welcomed listing the object (or, by a pager without the feature,
 * refused), and strictly so (dir2-review L5): not a second object b's view sends elsewhere that
 * nobody uses, nothing to a kernel c whose view agrees with a's, and nothing in the welcome of b's
 * resume (when the pager offers resume). The init rule of 2.8 (b's init refused because a's view sends the
 * object elsewhere) is what others-kept provokes, but a SHOULD: the case requires only that a's
 * session goes on, whatever b is answered (xp-spec Appendix C).
 */
final class DirectoryCases {
    private DirectoryCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("2.8-directory-others-kept", "a kernel's hello and memory_object_init under a pager directory "
                        + "unlike a connected kernel's end no other kernel's session", p -> {
                    FakeKernel a = p.open("a");
                    a.hello(hello(a, elsewhere(p)));
                    FakeKernel b = p.open("b");
                    b.send(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(hello(b, single())));
                    int pageSize = a.welcome().getPageSize();
                    b.send(Messages.init(PagerProbe.OBJECT_ID, p.object(), pageSize));
                    settled(b); // welcomed and answered, or refused: either is the pager's choice here
                    a.sync();
                    Check.that(!a.ended(), "kernel a's session ended after kernel b's hello and init under another "
                            + "pager directory: a pager MUST NOT end a kernel's session for another kernel's view or "
                            + "init (spec 2.8); it refuses the kernel that would start a second copy");
                }),
                should("2.8-directory-hello-refused", "a hello whose directory sends elsewhere an object a "
                        + "connected kernel of another name uses here is refused with INVALID_ARGUMENT; the user "
                        + "goes on", p -> {
                    // the hello rule: a uses the object here first, then b's view disputes it (the
                    // init rule is what others-kept provokes)
                    FakeKernel a = usingObject(p, "is nothing for b's hello to dispute");
                    FakeKernel b = p.open("b");
                    b.send(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(hello(b, elsewhere(p))));
                    io.grpc.Status s = b.awaitEnd("the refusal of kernel b's hello (spec 2.8)");
                    Check.that(s.getCode() == io.grpc.Status.Code.INVALID_ARGUMENT, "kernel b's view sends '"
                            + p.object() + "' to another pager while kernel a uses it here: b's hello should end with "
                            + "INVALID_ARGUMENT (spec 2.8), not " + FakeKernel.describe(s));
                    a.sync();
                    Check.that(!a.ended(), "kernel a, which uses the object, must keep its session (spec 2.8)");
                }),
                should("2.8-directory-disputes-listed", "a hello naming directory_disputes whose directory sends "
                        + "elsewhere an object a connected kernel of another name uses here is welcomed with that "
                        + "object listed in dispute and no other its view sends elsewhere that nobody uses (or "
                        + "refused with INVALID_ARGUMENT); a kernel whose view agrees with the user's is listed "
                        + "nothing, and so is a resume's welcome; the user goes on", p -> {
                    FakeKernel a = usingObject(p, "is nothing in dispute");
                    FakeKernel b = p.open("b");
                    String second = p.runId() + "-nobody-uses-this";
                    b.send(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(disputing(b.name(), p, second)));
                    PagerToKernel welcome = null;
                    try {
                        welcome = b.await("pager_welcome, or the refusal of kernel b's hello", PagerToKernel::hasPagerWelcome);
                    } catch (Violation endedFirst) {
                        if (!b.ended()) {
                            throw endedFirst;
                        }
                    }
                    if (welcome == null) { // a pager without the feature refuses, as for an older kernel: safe too
                        io.grpc.Status s = b.awaitEnd("the refusal of kernel b's hello (spec 2.8)");
                        Check.that(s.getCode() == io.grpc.Status.Code.INVALID_ARGUMENT, "kernel b's view sends '"
                                + p.object() + "' to another pager while kernel a uses it here: b should be welcomed "
                                + "with it in pager_welcome.disputes, or refused with INVALID_ARGUMENT (spec 2.8), not "
                                + FakeKernel.describe(s));
                    } else {
                        PagerWelcome w = welcome.getPagerWelcome();
                        var disputes = w.getDisputesList();
                        Check.that(disputes.stream().anyMatch(d -> d.getObject().equals(p.object())
                                && !d.getReason().isEmpty()), "kernel b was welcomed although its view sends '"
                                + p.object() + "' to another pager while kernel a uses it here, and the welcome does "
                                + "not list it in disputes with a reason (it lists " + disputes.size() + "): b would "
                                + "use a second copy of it elsewhere (spec 2.8)");
                        Check.that(disputes.stream().noneMatch(d -> d.getObject().equals(second)), "kernel b's "
                                + "welcome lists '" + second + "', which its view sends to another pager but nobody "
                                + "uses here: only objects another kernel uses here are in dispute (spec 2.8); "
                                + "a listed object is one the kernel may use nowhere");
                        FakeKernel c = p.open("c");
                        PagerWelcome cw = c.hello(hello(c, single()).toBuilder().addFeatures("directory_disputes")
                                .build());
                        Check.that(cw.getDisputesCount() == 0, "kernel c's view sends every object here, as kernel "
                                + "a's does, yet its welcome lists " + objects(cw) + " in dispute: an object is in "
                                + "dispute only for a view that sends it elsewhere (spec 2.8)");
                        if (w.getSessionToken() != 0) { // a pager offering resume (optional, 4.7)
                            b.sync();
                            FakeKernel again = p.open("b");
                            PagerWelcome r = again.hello(disputing(b.name(), p, second).toBuilder()
                                    .setResume(Resume.newBuilder().setKernelId(w.getKernelId())
                                            .setSessionToken(w.getSessionToken()).setAttempt(1)).build());
                            Check.that(r.getResumed(), "the answer to kernel b's resume must be pager_welcome with "
                                    + "resumed (spec 4.7), got " + r.toString().replace('\n', ' '));
                            again.resumed(b);
                            Check.that(r.getDisputesCount() == 0, "the welcome answering kernel b's resume lists "
                                    + objects(r) + ": only a new session's welcome lists disputes (the kernel keeps "
                                    + "the list it has, spec 2.8, 12.8)");
                        }
                    }
                    a.sync();
                    Check.that(!a.ended(), "kernel a, which uses the object, must keep its session (spec 2.8)");
                }));
    }

    /**
     * Kernel b's resumable hello naming directory_disputes: two pagers, this one 0, the object under
     * test and {@code second} (which nobody uses) assigned to pager 1.
     */
    private static KernelHello disputing(String name, PagerProbe p, String second) {
        List<String> assignments = byObjectName(List.of(p.object() + "=1", second + "=1"));
        return KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true)
                .addFeatures("directory_disputes").setDirectory(PagerDirectoryView.newBuilder().setPagerCount(2)
                        .setPagerIndex(0).addAllAssignments(assignments)).build();
    }

    /**
     * {@code assignments} ("object=pager") sorted as a view lists them (spec 2.8, 12.41): by object
     * name, the part before the last '=', in UTF-8 byte order. Sorting the whole strings differs when
     * one name is a prefix of another followed by a byte below '=' ("ab-x=1" before "ab=1"), and a
     * pager that checks the order would refuse the hello (dir3-review LOW-4).
     */
    static List<String> byObjectName(List<String> assignments) {
        List<String> sorted = new java.util.ArrayList<>(assignments);
        sorted.sort(java.util.Comparator.comparing(a -> a.substring(0, a.lastIndexOf('='))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Arrays::compareUnsigned));
        return sorted;
    }

    private static List<String> objects(PagerWelcome w) {
        return w.getDisputesList().stream().map(io.machxp.proto.xp.ObjectDispute::getObject).toList();
    }

    /** Waits until b's init is answered or its stream has ended. */
    private static void settled(FakeKernel b) {
        try {
            b.await("memory_object_ready or _destroy, or the end of the stream",
                    m -> m.hasMemoryObjectReady() || m.hasMemoryObjectDestroy());
        } catch (Violation endedFirst) {
            if (!b.ended()) {
                throw endedFirst;
            }
        }
    }

    /**
     * Kernel a (single view) says hello and initializes the object, which it then uses here; the
     * case is skipped (there {@code is} nothing to dispute) if the pager answers with destroy.
     */
    private static FakeKernel usingObject(PagerProbe p, String is) {
        FakeKernel a = p.open("a");
        a.hello(hello(a, single()));
        a.send(Messages.init(PagerProbe.OBJECT_ID, p.object(), a.welcome().getPageSize()));
        PagerToKernel ready = a.await("memory_object_ready or _destroy for object '" + p.object() + "'",
                m -> m.hasMemoryObjectReady() || m.hasMemoryObjectDestroy());
        if (!ready.hasMemoryObjectReady()) {
            throw new Skipped("kernel a's init of '" + p.object() + "' was answered with destroy ("
                    + ready.getMemoryObjectDestroy().getReason() + "): nobody uses it here, so there " + is);
        }
        return a;
    }

    static KernelHello hello(FakeKernel k, PagerDirectoryView view) {
        return KernelHello.newBuilder().setKernelName(k.name()).setProtocolVersion(1).setDirectory(view).build();
    }

    /** Two pagers, this one 0, the object under test assigned to pager 1. */
    static PagerDirectoryView elsewhere(PagerProbe p) {
        return PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0).addAssignments(p.object() + "=1")
                .build();
    }

    /** One pager: every object here. */
    static PagerDirectoryView single() {
        return PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();
    }
}
