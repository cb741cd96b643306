package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;

/**
 * Cases of spec 2.8: kernels that state different pager directories. Kernel a's view sends the
 * object under test to another pager (two pagers, this one 0, the object assigned to pager 1) and
 * it uses nothing here; kernel b's view is a single pager's, so it sends the object here. b's init
 * would start a second copy beside a's: the pager refuses b (its init, with memory_object_destroy),
 * and MUST NOT end a's session for it (an earlier machxp pager ended every kernel whose view
 * disputed an init: one misconfigured kernel ended every correct one).
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
                should("2.8-directory-init-refused", "a memory_object_init of an object a connected kernel's "
                        + "directory sends to another pager is answered with destroy and a reason; the "
                        + "initializer's session goes on", p -> {
                    FakeKernel a = p.open("a");
                    a.hello(hello(a, elsewhere(p)));
                    FakeKernel b = p.open("b");
                    b.hello(hello(b, single())); // a uses nothing here: no reason to refuse b's hello
                    b.send(Messages.init(PagerProbe.OBJECT_ID, p.object(), b.welcome().getPageSize()));
                    PagerToKernel answer = b.await("memory_object_ready or _destroy for object '" + p.object() + "'",
                            m -> m.hasMemoryObjectReady() || m.hasMemoryObjectDestroy());
                    Check.that(answer.hasMemoryObjectDestroy(), "kernel b's view sends '" + p.object() + "' here, "
                            + "kernel a's (connected) sends it to another pager: b's init must be answered with "
                            + "memory_object_destroy (spec 2.8), not ready, or each would use its own copy");
                    Check.that(!answer.getMemoryObjectDestroy().getReason().isBlank(), "memory_object_destroy must "
                            + "say why (spec 12.13): here, naming both directories");
                    b.sync();
                    a.sync();
                    Check.that(!a.ended() && !b.ended(), "the refused init must end no session (spec 2.8)");
                }));
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

    private static KernelHello hello(FakeKernel k, PagerDirectoryView view) {
        return KernelHello.newBuilder().setKernelName(k.name()).setProtocolVersion(1).setDirectory(view).build();
    }

    /** Two pagers, this one 0, the object under test assigned to pager 1. */
    private static PagerDirectoryView elsewhere(PagerProbe p) {
        return PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0).addAssignments(p.object() + "=1")
                .build();
    }

    /** One pager: every object here. */
    private static PagerDirectoryView single() {
        return PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();
    }
}
