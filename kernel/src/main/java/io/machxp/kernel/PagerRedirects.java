package io.machxp.kernel;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerRedirect;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;

/**
 * How one {@link PagerLink} follows the leader of a replicated pager (xp-spec 13.2): a replica
 * that does not lead answers a kernel_hello with pager_redirect, and the link sends the same hello
 * to the leader it names. The core sees none of this: it sees a welcome or a refusal, as from an
 * unreplicated pager. Core thread.
 *
 * <h2>Overview</h2>
 * <pre>
 *  kernel_hello sent ({@link #helloSent})   remembered; no redirect followed for it yet
 *  pager_redirect(leader) ({@link #redirected}), before the stream's hello was answered
 *                                          the stream is dropped (the link reads it no more); the
 *                                          same hello goes to that leader's entry of the kernel's
 *                                          --pager list on a new stream, and the kernel's next
 *                                          links go there first (ReplicaChoice#leader: the address
 *                                          named, or the entry learned for its replica id)
 *  pager_redirect(leader at no entry of the list), or pager_redirect() (no leader known yet: an election)
 *                                          the next replica; the same hello after
 *                                          {@link #NO_LEADER_WAIT_MILLIS}, unless the link opened
 *                                          another stream meanwhile
 *  the first hello's stream broke without the pager's word, before any welcome
 *  ({@link #tryNextReplica})               as a redirect that names no leader: a start does not
 *                                          fail because the first replica listed is down
 *  more than {@link #MAX_REDIRECTS} for one hello
 *                                          not followed: the stream's end reports it broken, and
 *                                          the core's retries decide
 * </pre>
 * A redirect after the hello was answered is a protocol violation the link logs and ignores
 * (xp-spec 3.6: it would move the session mid-way).
 */
final class PagerRedirects {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerRedirects.class);
    /** The most redirects followed for one hello before the kernel lets its own retries decide. */
    private static final int MAX_REDIRECTS = 8;
    /** How long the kernel waits when a replica knows no leader yet (an election is under way). */
    private static final long NO_LEADER_WAIT_MILLIS = 50;

    private final PagerLink link;
    private final PagerChannels channels;
    private final EventLoop loop;
    /** The last kernel_hello sent: sent again to the leader a follower names. */
    private KernelToPager lastHello;
    /** Redirects followed for the current hello: a bound, against replicas that name each other. */
    private int redirects;

    PagerRedirects(PagerLink link, PagerChannels channels, EventLoop loop) {
        this.link = link;
        this.channels = channels;
        this.loop = loop;
    }

    /** A kernel_hello goes out: the one a redirect sends again, with no redirect followed yet. */
    void helloSent(KernelToPager hello) {
        lastHello = hello;
        redirects = 0;
    }

    /**
     * A replica that does not lead answered the hello with {@code r}: the same hello goes to the
     * leader it names on a new stream, or, while it knows none, to the next replica after a short
     * wait.
     */
    void redirected(PagerRedirect r) {
        KernelToPager hello = lastHello;
        if (hello == null || ++redirects > MAX_REDIRECTS) {
            return; // the stream's end reports it broken, and the core's retries decide
        }
        int count = redirects;
        int redirectedStream = link.dropStream(); // the follower's stream (it ends now) is not the link's any more
        boolean follow = !r.getLeader().isEmpty() && channels.leader(r.getLeader(), r.getLeaderId());
        if (!r.getLeader().isEmpty() && !follow) {
            String said = "a replica named the leader at " + r.getLeader() + " (replica " + r.getLeaderId() + "), which is "
                    + "not among this pager's replicas in --pager " + channels.replicas() + ": it tries the next one "
                    + "(give --pager the addresses the replicas' --replicas give)";
            if (channels.sayUnlisted()) {
                log.warn("kernel: {}", said);
            } else {
                log.debug("kernel: {}", said);
            }
        }
        if (!follow) {
            channels.nextTarget();
            loop.schedule(() -> {
                // Unless the core opened a stream meanwhile (its next resume attempt, say): a stale
                // hello sent now would replace that stream, and the pager would refuse its attempt
                // number as not above the one it took from the newer hello.
                if (link.isCurrent(redirectedStream) && lastHello == hello) {
                    sendAgain(hello, count);
                }
            }, NO_LEADER_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            sendAgain(hello, count);
        }
    }

    /**
     * The current stream broke without the pager's word: if it carried the first hello of a
     * replicated pager that nobody welcomed yet, the next replica is tried a moment later, as
     * after a redirect that names no leader, rather than failing the kernel's start because the
     * first replica it names is down. False: the link reports the stream broken as usual.
     */
    boolean tryNextReplica(boolean welcomed) {
        if (!channels.replicated() || welcomed || lastHello == null || redirects >= MAX_REDIRECTS) {
            return false;
        }
        redirected(PagerRedirect.getDefaultInstance());
        return true;
    }

    private void sendAgain(KernelToPager hello, int count) {
        if (link.sendOnNewStream(hello)) {
            redirects = count; // the hello's send counted it as new
        }
    }
}
