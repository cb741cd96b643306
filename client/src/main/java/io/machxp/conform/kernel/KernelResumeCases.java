package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.that;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.conform.ConformCase;
import io.machxp.conform.Skipped;
import io.machxp.conform.Violation;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Resume;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Kernel cases of spec section 4.7, the kernel's side of a session resume. Resume is optional for
 * a kernel: a case is skipped for a kernel that does not set {@code kernel_hello.resumable} or
 * does not resume a stalled stream. Each case opens a session the kit's pager gives a session
 * token (ending the one before, as a pager that declared the kernel dead: the kernel opens the
 * next, spec 4.5 and 9.1), then stalls its stream: the pager answers no keepalive on it, and the
 * kernel sends one message the pager does not confirm (the lock_completed of a barrier). They end
 * sessions: they run last.
 *
 * <pre>
 *  4.7-resume-hello          the resume names the session: kernel id, token, the pager messages
 *                            received, attempt 1 or more; taken, the session goes on on the new stream
 *  4.7-resume-resends        the pager says it received less: the kernel sends again exactly the
 *                            messages after that count, in order, and nothing the pager had
 *  4.7-resume-attempt-grows  the first resume's connection breaks: the next attempt is higher
 *  4.7-resume-refused        refused (ESTALE): no resume of that session again, and nothing of it
 *                            sent again on the session that follows (a reclaim asks again instead)
 *  3.1-end-marked-broken     (a kernel that names end_info) its stream ended UNAVAILABLE with
 *                            ErrorInfo EAGAIN marked stream = broken: it resumes or reclaims
 *                            the session (a broken stream), never opens a new one
 * </pre>
 */
final class KernelResumeCases {
    private KernelResumeCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("4.7-resume-hello", "a kernel that resumes a stalled stream sends kernel_hello with resume naming "
                        + "its kernel id, the session token, the pager messages it received and an attempt of 1 or "
                        + "more; taken, the session goes on on the new stream", p -> resumeCase(p, s -> {
                    KernelLink now = s.resumeLink(p);
                    Resume r = now.hello().getResume();
                    that(r.getKernelId() == s.session().kernelId(), "the resume names kernel id " + r.getKernelId()
                            + "; the session's is " + s.session().kernelId() + " (spec 4.7)");
                    that(r.getSessionToken() == s.session().token(), "the resume names another session token than "
                            + "the welcome gave (spec 4.7)");
                    that(r.getAttempt() >= 1, "the resume's attempt is " + r.getAttempt() + "; attempts count from 1");
                    that(r.getReceived() == s.pagerSent(), "the resume says the kernel received " + r.getReceived()
                            + " pager messages of the session; the pager sent it " + s.pagerSent() + " after the "
                            + "welcome, all of them before the stall (spec 4.7: every message after a welcome counts)");
                    goesOn(p, s, p.pager().awaitSession(s.link(), p.deadline()));
                })).waitingLeases(),
                must("4.7-resume-resends", "on pager_welcome with resumed, the kernel sends again every message after "
                        + "the pager's received, in order, then goes on; nothing the pager had", p -> resumeCase(p, s -> {
                    long unconfirmed = s.session().numberOf(s.unconfirmed());
                    that(unconfirmed > 0, "the kit did not see the kernel's lock_completed numbered on the session");
                    p.pager().claimOnNextResume(x -> unconfirmed - 1); // as if it was lost with the old stream
                    s.resumeLink(p);
                    KernelLink now = p.pager().awaitSession(s.link(), p.deadline());
                    List<KernelToPager> lost = s.session().lostOnResume();
                    that(!lost.isEmpty(), "the kit's pager forgot no message at the resume");
                    long from = unconfirmed; // the kernel's next message is numbered this again
                    now.awaitCondition("the kernel to send again the " + lost.size() + " messages after the pager's "
                            + "received (" + (unconfirmed - 1) + ")", () -> s.session().received() >= from - 1
                                    + lost.size(), p.deadline());
                    for (int i = 0; i < lost.size(); i++) {
                        KernelToPager again = s.session().kernelMessage(from + i);
                        that(again.equals(lost.get(i)), "after the resume, the kernel's message " + (from + i)
                                + " is " + KernelMessages.describe(again) + "; the pager had received " + (from - 1)
                                + " and expected message " + (from + i) + " again: "
                                + KernelMessages.describe(lost.get(i)) + " (spec 4.7: every message after the "
                                + "pager's received, in order)");
                    }
                    goesOn(p, s, now);
                })).waitingLeases(),
                must("4.7-resume-attempt-grows", "a resume whose connection broke is tried again with a higher attempt "
                        + "(a pager may have taken the first: its answer was lost)", p -> resumeCase(p,
                        () -> p.pager().refuseNextHello(h -> h.hasResume() ? Status.UNAVAILABLE
                                .withDescription("the conformance kit drops this connection").asRuntimeException()
                                : null), s -> {
                    Resume first = s.resumeLink(p).hello().getResume();
                    KernelHello next = s.nextHello(p, 1, "after its first resume's connection broke");
                    Resume again = next.getResume();
                    that(again.getKernelId() == s.session().kernelId() && again.getSessionToken() == s.session().token(),
                            "the second resume names another session than the first (spec 4.7)");
                    that(Long.compareUnsigned(again.getAttempt(), first.getAttempt()) > 0, "the kernel tried its resume "
                            + "again with attempt " + Long.toUnsignedString(again.getAttempt()) + " after attempt "
                            + Long.toUnsignedString(first.getAttempt()) + "; each must be higher (spec 4.7: a pager "
                            + "takes only an attempt above the last it took, and may have taken the first)");
                    goesOn(p, s, p.pager().awaitSession(s.link(), p.deadline()));
                })).waitingLeases(),
                must("4.7-resume-refused", "refused (FAILED_PRECONDITION / ESTALE), the kernel does not resume that "
                        + "session again, and sends nothing of it again on the session that follows", p -> resumeCase(p,
                        () -> p.pager().refuseNextHello(h -> h.hasResume() ? FakePager.error(
                                Status.Code.FAILED_PRECONDITION, "ESTALE", "the conformance kit's pager takes no resume "
                                        + "of this session") : null), s -> {
                    s.resumeLink(p);
                    KernelLink next;
                    try {
                        next = p.pager().awaitHello(s.hellosBefore() + 1, p.deadline());
                    } catch (Violation none) {
                        return; // the kernel stopped (its lease decides): nothing resumed, nothing sent again
                    }
                    KernelHello h = next.hello();
                    that(!(h.hasResume() && h.getResume().getSessionToken() == s.session().token()), "after the pager "
                            + "refused its resume with ESTALE, the kernel sent the same session's resume again (attempt "
                            + Long.toUnsignedString(h.getResume().getAttempt()) + "): a refused session is not there to "
                            + "resume (spec 4.7: reclaim, 9.4, or a new session)");
                    next.awaitCondition("two keepalives of the kernel's session after the refused resume",
                            () -> next.keepalives().size() >= 2 || next.isEnded(), p.deadline());
                    for (KernelToPager m : next.pending()) {
                        that(!m.equals(s.unconfirmed()), "after its resume was refused, the kernel sent "
                                + KernelMessages.describe(m) + " of the refused session again on the next one: a "
                                + "refused resume sends nothing again (spec 4.7, a reclaim asks again instead)");
                    }
                })).waitingLeases(),
                must("3.1-end-marked-broken", "a kernel whose hello names end_info takes an end UNAVAILABLE with "
                        + "ErrorInfo EAGAIN marked stream = broken (a replica's loss of leadership) as a broken stream: "
                        + "it resumes or reclaims its session, never opens a new one as after the pager's refusal",
                        KernelResumeCases::markedBroken).waitingLeases());
    }

    /** The hello feature by which a kernel asks for ErrorInfo on the pager's ends that are no refusal (spec 3.1). */
    static final String END_INFO = "end_info";

    /**
     * Case 3.1-end-marked-broken: the kit's pager ends the kernel's stream as a replica that stops
     * leading ends it to a kernel that named end_info; the kernel's next hello must mend the
     * session as after any broken stream: a resume of it (4.7, 13.3) or, at a pager it does not
     * know to be replicated, a reclaim (9.7). A hello with neither is a new session: the kernel took
     * the end for the pager's refusal and dropped what it held. Skipped for a kernel that does not
     * name end_info (a pager ends its streams so without ErrorInfo, which other cases cover).
     */
    private static void markedBroken(KernelProbe p) {
        KernelLink link = p.link();
        if (!link.hello().getFeaturesList().contains(END_INFO)) {
            throw new Skipped("the kernel's hello does not name end_info: a pager ends its broken streams without "
                    + "ErrorInfo (optional, spec 3.1)");
        }
        awaitServing(p);
        int hellos = p.pager().hellos();
        link.end(io.grpc.protobuf.StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.UNAVAILABLE.value()).setMessage("EAGAIN: the conformance kit's pager replica no "
                        + "longer leads its group: resume the session at the new leader")
                .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setDomain("machxp")
                        .setReason("EAGAIN").putMetadata("stream", "broken").build())).build()));
        KernelLink next;
        try {
            next = p.pager().awaitHello(hellos, p.deadline());
        } catch (Violation none) {
            throw new Violation("the kit's pager ended the kernel's stream UNAVAILABLE with ErrorInfo EAGAIN marked "
                    + "stream = broken, and the kernel sent no hello after it: a kernel that names end_info MUST take "
                    + "such an end as a broken stream and resume or reclaim its session (spec 3.1, 4.7, 9.7)");
        }
        KernelHello h = next.hello();
        that(h.hasResume() || h.hasReclaim(), "after its stream ended UNAVAILABLE with ErrorInfo marked stream = "
                + "broken, the kernel sent a hello with neither resume nor reclaim (a new session): a kernel that "
                + "names end_info MUST take such an end as a broken stream and resume or reclaim its session "
                + "(spec 3.1, 4.7, 9.7), never as the pager's refusal");
        awaitServing(p);
    }

    /**
     * For a case of another section: {@code link}'s session (resumable, given a token: the caller
     * has the pager offer resume) stalled, resumed by the kernel and taken; the stream it goes on
     * on, once the kernel answered a barrier there. Null if the kernel does not resume (optional,
     * 4.7) or its session has no token: the caller's resume part is then not checked.
     */
    static KernelLink resumed(KernelProbe p, KernelLink link) {
        if (link.session() == null) {
            return null;
        }
        Stalled s = stall(p, link, () -> { });
        try {
            s.resumeLink(p);
        } catch (Skipped notResumed) {
            return null;
        }
        goesOn(p, s, p.pager().awaitSession(s.link(), p.deadline()));
        return s.session().link();
    }

    /** A case's body, given the stalled session. */
    private interface Body {
        void run(Stalled s) throws Exception;
    }

    /** Runs {@code body} on a stalled resumable session; the pager offers resume meanwhile only. */
    private static void resumeCase(KernelProbe p, Body body) throws Exception {
        resumeCase(p, () -> { }, body);
    }

    /**
     * As above, with {@code arm} run before the stall starts: how the pager answers the resume
     * (a refusal), in place before the kernel can send it, however soon after the stall it does.
     */
    private static void resumeCase(KernelProbe p, Runnable arm, Body body) throws Exception {
        p.pager().offerResume(true);
        try {
            body.run(stall(p, resumableSession(p), arm));
        } finally {
            p.pager().refuseNextHello(null);
            p.pager().offerResume(false);
        }
    }

    /**
     * A stalled session: the pager answers no keepalive on its stream ({@code link}, where the
     * case's object is mapped as {@code m}), the kernel
     * sent {@code unconfirmed} (a lock_completed) after the last keepalive answered, and the pager
     * had sent {@code pagerSent} messages of the session then. {@code hellosBefore}: the hellos the
     * pager had seen; the kernel's next comes on a new stream.
     */
    private record Stalled(KernelLink link, ResumableSession session, KernelProbe.Mapping m, KernelToPager unconfirmed,
            long pagerSent, int hellosBefore) {
        /** The stream of the kernel's next hello, a resume; skipped if it does not resume. */
        KernelLink resumeLink(KernelProbe p) {
            nextHello(p, 0, "once its stream stalled (keepalives unanswered)");
            return p.pager().awaitHello(hellosBefore, p.deadline());
        }

        /** The kernel's hello number {@code index} after the stall, a resume; skipped if it is not one. */
        KernelHello nextHello(KernelProbe p, int index, String when) {
            KernelLink l;
            try {
                l = p.pager().awaitHello(hellosBefore + index, p.deadline());
            } catch (Violation e) {
                throw new Skipped("the kernel sent no resume " + when + " within the case's time (resume is "
                        + "optional, spec 4.7)");
            }
            if (!l.hello().hasResume()) {
                throw new Skipped("the kernel sent a hello without resume " + when + ": it does not resume "
                        + "(optional, spec 4.7)");
            }
            return l.hello();
        }
    }

    /**
     * Stalls {@code link}'s session: keepalives unanswered from the kernel's lock_completed of a
     * barrier on, which the pager does not confirm. The kernel may find its stream stalled before
     * that lock_completed reached the pager (a keepalive's answer slower than a sixth of the lease
     * on a loaded host), even before the try set its stall up (while it maps the object or waits
     * for a keepalive): the resume, taken, moved the session to a new stream, and the stall is set
     * up again there, until the case's deadline.
     */
    private static Stalled stall(KernelProbe p, KernelLink link, Runnable arm) {
        while (true) {
            Stalled s = tryStall(p, link, arm);
            if (s != null) {
                return s;
            }
            p.pager().refuseNextHello(null); // armed for the stall that was not: the next try arms again
            link = p.pager().awaitSession(link, p.deadline());
        }
    }

    /**
     * One try of {@link #stall}: null if the kernel resumed (or tried to) before the pager went
     * quiet (the session moved to a new stream, or the kernel reclaims). {@code arm} runs before
     * the barrier is sent: the pager answers the resume as the case asked, however soon it comes.
     * The session may move off {@code link} at any point of the try, even before the kit counts
     * the hellos (a resume of a stall the kernel saw on its own, a loaded host's keepalive answer
     * slower than a sixth of the lease, or an earlier resume's later attempt): the try then ends
     * with null as soon as it sees that, wherever it waits, and never waits on the fenced stream.
     */
    private static Stalled tryStall(KernelProbe p, KernelLink link, Runnable arm) {
        ServedObject o = p.serve(2);
        KernelProbe.Mapping m;
        try {
            m = p.map(o);
        } catch (Violation e) {
            if (link.movedOn()) {
                return null; // the session moved while the kernel mapped: its init went to the new stream
            }
            throw e;
        }
        if (m.link() != link && link.movedOn()) {
            return null;
        }
        that(m.link() == link, "the object was mapped on another session than the resumable one");
        // A keepalive answered first: the kernel then has none left unanswered from before (one the
        // pager got while silent in an earlier case is never answered).
        int keepalives = link.keepalives().size();
        link.awaitCondition("a kernel_keepalive (answered) before the stall", () -> link.keepalives().size()
                > keepalives || link.movedOn(), p.deadline());
        int hellos = p.pager().hellos();
        ResumableSession session = link.session();
        // Quiet from the lock_completed on, not from the lock_request: a kernel slow to answer the
        // barrier (a loaded host) would else find its stream stalled first, and resume with the
        // lock_completed kept, not sent on this stream (spec 4.7 promises no order of the two).
        java.util.function.Predicate<io.machxp.proto.xp.KernelToPager> done = x -> x.hasMemoryObjectLockCompleted()
                && x.getMemoryObjectLockCompleted().getObjectId() == m.objectId();
        link.silenceAfter(done);
        arm.run();
        long last = m.size() - p.pageSize();
        link.send(KernelLink.lockRequest(m.objectId(), last, p.pageSize(), ReturnPolicy.RETURN_NONE, false,
                VmProt.VM_PROT_WRITE, true));
        // Gives up on a hello after the count (the resume, taken or refused as armed) and on the
        // session moving off this stream whenever that resume came: one taken before the count
        // adds no hello after it, and fences this stream (a lock_completed on it is dropped).
        KernelToPager completed = link.awaitUnless("lock_completed answering a lock_request with reply (spec 6.4)",
                done, () -> link.silencedAt() < 0 && (p.pager().hellosNow() > hellos || link.movedOn()),
                p.deadline());
        if (completed == null || resumedEarly(p, link, hellos)) {
            // It resumed (or tried to) before the pager went quiet: the resume, taken, fenced this
            // stream; refused, the kernel reclaims (ESTALE) or tries again (UNAVAILABLE).
            return null;
        }
        return new Stalled(link, session, m, completed, link.sentWhenSilenced(), hellos);
    }

    /** Whether the kernel sent a hello on a new stream before the pager went quiet on {@code link}. */
    private static boolean resumedEarly(KernelProbe p, KernelLink link, int hellos) {
        if (p.pager().hellos() <= hellos) {
            return false;
        }
        long quiet = link.silencedAt();
        return quiet < 0 || p.pager().awaitHello(hellos, p.deadline()).helloAt() < quiet;
    }

    /**
     * The kernel's current session if the kit's pager gave it a token, else a new one: the kit
     * ends the current session as a pager that declared the kernel dead (FAILED_PRECONDITION /
     * ETIMEDOUT, spec 4.5), and the kernel opens the next (9.1). Skipped for a kernel that does
     * not set resumable, or opens no new session.
     */
    private static KernelLink resumableSession(KernelProbe p) {
        KernelLink link = p.link();
        if (!link.hello().getResumable()) {
            throw new Skipped("the kernel's hello does not set resumable: it does not resume sessions (optional, "
                    + "spec 4.7)");
        }
        if (link.session() == null) {
            link.end(FakePager.error(Status.Code.FAILED_PRECONDITION, "ETIMEDOUT", "the conformance kit ends this "
                    + "session to open one it offers resume to"));
            try {
                link = p.pager().awaitSession(link, p.deadline());
            } catch (Violation e) {
                throw new Skipped("the kernel opened no new session after the kit's pager ended its session; the "
                        + "resume cases need one the pager gives a session token");
            }
            if (link.session() == null) {
                throw new Skipped("the kernel's new session does not set resumable (optional, spec 4.7)");
            }
        }
        awaitServing(p);
        return link;
    }

    /** The kernel answers UNAVAILABLE until it has taken its new session's welcome: its task, once it serves. */
    static void awaitServing(KernelProbe p) {
        while (true) {
            try {
                p.task();
                return;
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > p.deadline()) {
                    throw e;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // its welcome is on its way
            }
        }
    }

    /**
     * The resumed session goes on on {@code now}, or on the stream it moved to after: the kernel
     * answers a barrier there. The kernel may resume again meanwhile (a stall it saw on its own on
     * a loaded host, or a later attempt of the same resume whose connection came up late): the
     * barrier is then asked again on the session's new stream, not awaited on the fenced one.
     */
    private static void goesOn(KernelProbe p, Stalled s, KernelLink now) {
        KernelProbe.Mapping m = s.m();
        KernelLink on = now;
        while (true) {
            if (on.movedOn()) {
                on = s.session().link();
            }
            that(on.session() == s.session() || on.movedOn(), "the kit's pager did not take the kernel's resume");
            try {
                p.sync(new KernelProbe.Mapping(m.object(), m.address(), m.size(), m.objectId(), on));
                return;
            } catch (Violation e) {
                if (!on.movedOn() || System.nanoTime() > p.deadline()) {
                    throw e;
                }
            }
        }
    }
}
