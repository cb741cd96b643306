package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.grpc.Status;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import java.util.List;

/**
 * Cases of spec section 4.7 (session resume): a kernel whose stream stalled goes on with the same
 * session on a new stream; a resume that does not name the open session is refused. They need a
 * target with a lease.
 */
final class ResumeCases {
    private ResumeCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                should("4.7-resumable", "a pager with a lease offers resume: a resumable kernel gets a session_token",
                        p -> {
                    p.leaseMillis();
                    FakeKernel a = p.open("a");
                    PagerWelcome w = a.hello(resumable(a.name()).build());
                    Check.that(w.getSessionToken() != 0, "a pager with a lease should give a resumable kernel a "
                            + "session_token (spec 4.7); without one its kernels can only reconnect and reclaim");
                }),
                must("4.7-resume", "a resumable kernel's session goes on on a new stream: pager_welcome with resumed "
                        + "and the same kernel id; the old stream ends with FAILED_PRECONDITION / ESTALE", p -> {
                    p.leaseMillis();
                    FakeKernel a = p.open("a");
                    PagerWelcome w = a.hello(resumable(a.name()).build());
                    offersResume(w);
                    a.sync();
                    FakeKernel again = p.open("a");
                    PagerWelcome r = again.hello(resumable(a.name()).setResume(Resume.newBuilder()
                            .setKernelId(w.getKernelId()).setSessionToken(w.getSessionToken()).setAttempt(1)).build());
                    Check.that(r.getResumed() && r.getKernelId() == w.getKernelId(), "the answer to a resume of "
                            + "the open session must be pager_welcome with resumed and kernel id " + w.getKernelId()
                            + ", got " + r.toString().replace('\n', ' ') + " (spec 4.7)");
                    Check.endedWith(a, Status.Code.FAILED_PRECONDITION, "ESTALE", "the session moved to a new stream");
                    again.sync();
                }),
                must("4.7-resume-refused", "a resume with a token that is not the session's is refused: "
                        + "FAILED_PRECONDITION / ESTALE, and the session goes on", p -> {
                    p.leaseMillis();
                    FakeKernel a = p.open("a");
                    PagerWelcome w = a.hello(resumable(a.name()).build());
                    offersResume(w);
                    FakeKernel thief = p.open("a");
                    thief.send(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(resumable(a.name())
                            .setResume(Resume.newBuilder().setKernelId(w.getKernelId())
                                    .setSessionToken(w.getSessionToken() + 1).setAttempt(1))));
                    Check.endedWith(thief, Status.Code.FAILED_PRECONDITION, "ESTALE", "a resume with a wrong token");
                    a.sync(); // the session is untouched
                }));
    }

    /** The MUST cases of 4.7 apply to a pager that offers resume (a non-zero session_token). */
    private static void offersResume(PagerWelcome w) {
        if (w.getSessionToken() == 0) {
            throw new Skipped("the target does not offer resume (session_token 0; optional, spec 4.7)");
        }
    }

    private static KernelHello.Builder resumable(String name) {
        return KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).setResumable(true);
    }
}
