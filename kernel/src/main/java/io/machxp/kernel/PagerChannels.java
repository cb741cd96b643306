package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The connections of one {@link PagerLink} to its pager (a gRPC channel each), and which of the
 * pager's replicas (xp-spec 13) they go to. Core thread.
 *
 * <h2>Overview</h2>
 * <pre>
 *  current   the channel the link's streams open on
 *  spare     connected and idle, to the current channel's replica, for the next resume
 *  replaced  channels of streams a resume or a move to another replica replaced: left open (the
 *            pager may still read their stream, and a cancel could end the session there)
 *
 *  stream to another replica  ({@link #toTarget})   current -> replaced; a new channel there
 *  resume                     ({@link #renew})      current -> replaced; the spare becomes current
 *                                                   if it is READY and to the same replica, else
 *                                                   a new channel (the spare is replaced)
 *  welcome, resume taken      ({@link #warmSpare})  a new spare connects (a resume taken first
 *                                                   closes the replaced ones, {@link #closeReplaced})
 *  link done                  ({@link #closeAllButCurrent}, then the current one)
 * </pre>
 * Replicas: {@link #target} is where the next stream goes: the replica choice's at first, the
 * leader a replica named ({@link #leader}), or the next one after a stream that failed without
 * the pager's word ({@link #nextTarget}); an unreplicated pager has one. The choice is shared by
 * the kernel's successive links to the pager (see {@link ReplicaChoice}).
 *
 * <p>Each channel's I/O runs on the core's one-thread group. Its call executor is not gRPC's
 * direct executor: until name resolution finishes, a call is buffered and its first callbacks
 * (the pager's welcome among them) are replayed by whichever thread completes the resolution,
 * which would enter the core from a foreign thread. {@link #onLoop} runs a callback inline when
 * it is already on the core loop, and hands it to the loop otherwise, so messages from the pager
 * enter the core without another hop.
 */
final class PagerChannels {
    /** How often the kernel pings its pager's connection, and how long it waits for the answer. */
    static final long PING_SECONDS = 10;

    /** The replicas of this pager, from its --pager entry "host:port+host:port+..."; one if unreplicated. */
    private final List<String> targets;
    /** Where the kernel's links to this pager, of this session and the next, connect first. */
    private final ReplicaChoice choice;
    /** The replica the next connection goes to: the last leader named, or the next after a failure. */
    private String target;
    /** The replica the current channel and the spare connect to. */
    private String channelTarget;
    private String spareTarget;
    private final ChannelCredentials credentials;
    private final EventLoopGroup coreGroup;
    private final EventLoop loop;
    /** The channel of the current stream: a resume makes a new one (a new connection). */
    private ManagedChannel channel;
    /**
     * A second connection to the pager, kept connected and idle for a resume: an idle connection
     * has nothing in retransmission backoff, so after a short cut a hello on it goes out at once,
     * and the resume costs one round trip instead of a TCP and HTTP/2 handshake.
     */
    private ManagedChannel spare;
    /** Channels of streams a resume replaced: closed once the pager took the resume. */
    private final List<ManagedChannel> replaced = new ArrayList<>();

    /**
     * @param credentials mutual TLS or plaintext, already checked against the policy
     * @param coreGroup the core's one-thread group: the channels' I/O and their callbacks both run on it
     * @param loop the core loop, the one thread of {@code coreGroup}
     */
    PagerChannels(ReplicaChoice choice, ChannelCredentials credentials, EventLoopGroup coreGroup, EventLoop loop) {
        this.choice = choice;
        this.targets = choice.replicas();
        this.target = choice.current();
        this.credentials = credentials;
        this.coreGroup = coreGroup;
        this.loop = loop;
        this.channel = newChannel();
    }

    /**
     * HTTP/2 keepalive pings find a dead connection that carries no stream traffic (grpc-java pings
     * at most every {@link #PING_SECONDS} s: it raises shorter times to that floor, so leases of a
     * few seconds count on the kernel's own keepalives and stall detection, see KernelSession);
     * the pager permits pings that often (Pager's permitKeepAliveTime).
     */
    private ManagedChannel newChannel() {
        channelTarget = target;
        return NettyChannelBuilder.forTarget(target, credentials).eventLoopGroup(coreGroup)
                .channelType(NioSocketChannel.class).executor(this::onLoop)
                .keepAliveTime(PING_SECONDS, TimeUnit.SECONDS).keepAliveTimeout(PING_SECONDS, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true).build();
    }

    private void onLoop(Runnable callback) {
        if (loop.inEventLoop()) {
            callback.run();
        } else {
            loop.execute(callback);
        }
    }

    /** The channel the next stream opens on. */
    ManagedChannel current() {
        return channel;
    }

    /** Whether the current channel is shut down: the link is done, nothing opens on it any more. */
    boolean shutDown() {
        return channel.isShutdown();
    }

    /**
     * After a failed connect the channel backs off (seconds, growing): the next attempt goes at
     * once instead, so that a pager back within the lease is found in time.
     */
    void resetConnectBackoff() {
        channel.resetConnectBackoff();
    }

    /** Before a new stream: the current channel goes to {@link #target}, or is replaced by one that does. */
    void toTarget() {
        if (!target.equals(channelTarget)) {
            replaced.add(channel); // another replica: a connection of its own
            channel = newChannel();
        }
    }

    /** For a resume: a new connection (the spare, if it is up and to the right replica) replaces the current one. */
    void renew() {
        replaced.add(channel);
        boolean warm = spare != null && spare.getState(false) == ConnectivityState.READY && target.equals(spareTarget);
        if (warm) {
            channel = spare;
            channelTarget = spareTarget;
        } else {
            if (spare != null) {
                replaced.add(spare);
            }
            channel = newChannel();
        }
        spare = null;
    }

    /** Connects a spare channel for the next resume (see {@link #spare}) unless there is one or the link is done. */
    void warmSpare() {
        if (spare == null && !channel.isShutdown()) {
            String current = channelTarget;
            spare = newChannel();
            spareTarget = channelTarget;
            channelTarget = current;
            spare.getState(true); // connect now, not at the first call
        }
    }

    /** The pager took the resume: the connections of the streams it replaced close. */
    void closeReplaced() {
        for (ManagedChannel old : replaced) {
            old.shutdownNow();
        }
        replaced.clear();
    }

    /** The link is done: every connection but the current one closes. */
    void closeAllButCurrent() {
        closeReplaced();
        if (spare != null) {
            spare.shutdownNow();
            spare = null;
        }
    }

    /** The replica the current channel connects to, for log lines. */
    String connectedTo() {
        return channelTarget;
    }

    /** Whether this pager has several replicas. */
    boolean replicated() {
        return targets.size() > 1;
    }

    /** After a stream failed without the pager's word: the next connection tries the next replica. */
    void nextTarget() {
        target = choice.next(target);
    }

    /** A resume here went unanswered (see SessionResume): the next goes to the next replica; false if there is none. */
    boolean nextReplica() {
        if (replicated()) {
            nextTarget();
        }
        return replicated();
    }

    /**
     * A replica named the leader at {@code address}, replica {@code id}: the next streams go to its
     * entry of this pager's list, the kernel's next links too ({@link ReplicaChoice#leader}); false,
     * nothing changed, if the list has no entry for it.
     */
    boolean leader(String address, String id) {
        String entry = choice.leader(address, id);
        if (entry == null) {
            return false;
        }
        target = entry;
        return true;
    }

    /** This pager's replicas, as the kernel's --pager entry lists them. */
    List<String> replicas() {
        return targets;
    }

    /** Whether a leader at no entry of the list is to be said at WARN (the first time). */
    boolean sayUnlisted() {
        return choice.sayUnlisted();
    }
}
