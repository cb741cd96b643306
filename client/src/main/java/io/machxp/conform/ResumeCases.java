package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.grpc.Status;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PagerToKernel;
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
                }),
                must("4.7-resume-replays", "a resumed session gets again, in order, every pager message after the "
                        + "kernel's received, and none before: a grant sent before the resume, not the ready", p -> {
                    FakeKernel a = p.resumableKernel("a");
                    offersResume(a.welcome());
                    long futex = p.freshPage();
                    MemoryObjectFutexGranted g = p.lock(a, futex);
                    long before = a.receivedBefore("the grant", m -> Check.isGrant(m, futex));
                    a.sync();
                    FakeKernel again = resume(p, a, before, 1); // as if the grant were lost with the old stream
                    MemoryObjectFutexGranted replayed = p.granted(again, futex, "the grant, message " + (before + 1)
                            + " of the session, after the kernel's received (" + before + "), sent again on the new "
                            + "stream (spec 4.7)");
                    Check.that(replayed.getFencingToken() == g.getFencingToken(), "the grant sent again must be the "
                            + "one sent before (token " + g.getFencingToken() + "), not " + replayed.getFencingToken());
                    Check.that(again.drain().stream().noneMatch(PagerToKernel::hasMemoryObjectReady), "memory_object_"
                            + "ready came again, but the kernel's received (" + before + ") covered it: a pager sends "
                            + "again only what came after (spec 4.7)");
                }),
                must("4.7-resume-stale-attempt", "a resume whose attempt is not above the last one taken is refused "
                        + "(FAILED_PRECONDITION / ESTALE); the session stays on the stream it moved to", p -> {
                    FakeKernel a = p.resumableKernel("a");
                    offersResume(a.welcome());
                    a.sync();
                    FakeKernel again = resume(p, a, 0, 1);
                    FakeKernel late = p.open("a");
                    PagerWelcome w = a.welcome();
                    late.send(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(resumable(a.name())
                            .setResume(Resume.newBuilder().setKernelId(w.getKernelId())
                                    .setSessionToken(w.getSessionToken()).setAttempt(1))));
                    Check.endedWith(late, Status.Code.FAILED_PRECONDITION, "ESTALE", "a resume with attempt 1, "
                            + "which the pager already took (spec 4.7: an attempt above the last it took)");
                    again.sync(); // the session is where the taken resume moved it
                }),
                must("4.7-resume-keeps-queue", "a kernel waiting for a futex when it resumes keeps its place in the "
                        + "queue: the grant comes on the new stream", p -> {
                    FakeKernel b = p.kernel("b");
                    FakeKernel a = p.resumableKernel("a");
                    offersResume(a.welcome());
                    long futex = p.freshPage();
                    long token = p.lockWithWaiter(b, a, futex);
                    FakeKernel again = resume(p, a, 0, 1);
                    again.sync();
                    b.send(Messages.released(PagerProbe.OBJECT_ID, futex, token, false));
                    p.granted(again, futex, "A waited for the futex when it resumed, and B released it: queue "
                            + "places stay as they were (spec 4.7)");
                }));
    }

    /**
     * Resumes {@code k}'s session on a new stream, the kernel having received {@code received} pager
     * messages; the new stream, once welcomed with resumed.
     */
    private static FakeKernel resume(PagerProbe p, FakeKernel k, long received, int attempt) {
        PagerWelcome w = k.welcome();
        FakeKernel again = p.open(k.name().substring(k.name().lastIndexOf('-') + 1));
        PagerWelcome r = again.hello(resumable(k.name()).setResume(Resume.newBuilder().setKernelId(w.getKernelId())
                .setSessionToken(w.getSessionToken()).setReceived(received).setAttempt(attempt)).build());
        Check.that(r.getResumed() && r.getKernelId() == w.getKernelId(), "the answer to a resume of the open session "
                + "must be pager_welcome with resumed and kernel id " + w.getKernelId() + ", got "
                + r.toString().replace('\n', ' ') + " (spec 4.7)");
        again.resumed(k); // its clean end terminates what the first stream initialized
        return again;
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
