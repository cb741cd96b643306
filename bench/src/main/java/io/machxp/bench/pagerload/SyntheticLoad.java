package io.machxp.bench.pagerload;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.pager.Pager;
import io.machxp.pager.net.NettyTransport;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A synthetic XP load for the pager: many virtual kernels ({@link VirtualKernel}), each one XP
 * session on one gRPC stream with a number of virtual threads locking and unlocking futexes in a
 * closed loop (Part II: every lock and unlock a message to the pager), all driven by one or a few
 * Netty event loops, with no KernelCore and no worker threads. Each stream keeps {@code inFlight}
 * lock_futex outstanding (one per virtual thread), so the pager always has work queued: it costs
 * far less CPU per XP message than real kernels with worker threads, and can saturate a pager on a
 * machine of 2 cores (the kernels' load cannot, docs/pager-efficiency.md).
 *
 * <p>What it speaks: kernel_hello (protocol 1), memory_object_init, lock_futex, futex_released
 * (with the grant's token, handoff when the grant said relinquish), kernel_keepalive every quarter
 * of the lease, and lock_completed to a lock_request that asks for one; it holds no page. It checks
 * what a kernel sees ({@link LoadChecks}): every grant for a futex a thread waits for, tokens
 * growing, no owner_died, nothing unexpected; with shared futexes, one holder at a time.
 */
public final class SyntheticLoad implements AutoCloseable {
    /**
     * @param streams virtual kernels, one XP stream each
     * @param inFlight virtual threads per kernel, each with one lock_futex or release in flight
     * @param connections TCP connections the streams are spread over (at most {@link
     *     #MAX_STREAMS_PER_CONNECTION} streams each); 0: one per stream, as real kernels have
     * @param loops event-loop threads driving the load
     * @param sharedFutexes every kernel's thread i locks the same futex (contended across kernels:
     *     the pager queues, hands off and relinquishes), instead of one futex per thread
     * @param cycles lock/unlock cycles per virtual thread; Long.MAX_VALUE: until {@link #stop}
     */
    public record Options(int streams, int inFlight, int connections, int loops, boolean sharedFutexes, long cycles) {
        public Options {
            if (streams < 1 || inFlight < 1 || loops < 1 || connections < 0 || cycles < 0) {
                throw new IllegalArgumentException("--streams, --in-flight and --load-threads must be at least 1, "
                        + "--connections at least 0 (0: one per stream)");
            }
            int c = connections == 0 ? streams : connections;
            if ((streams + c - 1) / c > MAX_STREAMS_PER_CONNECTION) {
                throw new IllegalArgumentException("--connections " + connections + " for " + streams
                        + " streams puts more than " + MAX_STREAMS_PER_CONNECTION + " on one connection (the pager "
                        + "takes " + Pager.MAX_CALLS_PER_CONNECTION + " calls a connection); use at least "
                        + ((streams + MAX_STREAMS_PER_CONNECTION - 1) / MAX_STREAMS_PER_CONNECTION));
            }
        }

        /** The object's size: one 64-byte slot per futex (as locks padded to a cache line), whole pages. */
        public long objectBytes(int pageSize) {
            long words = sharedFutexes ? inFlight : (long) streams * inFlight;
            long bytes = words * STRIDE;
            return Math.max(pageSize, (bytes + pageSize - 1) / pageSize * pageSize);
        }
    }

    /** Streams on one connection: the pager's calls per connection less one (an admin call may share it). */
    public static final int MAX_STREAMS_PER_CONNECTION = Pager.MAX_CALLS_PER_CONNECTION - 1;
    /** Bytes between two futex words. */
    static final long STRIDE = 64;
    public static final String OBJECT = "synthetic";

    private final EventLoopGroup group;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<VirtualKernel> kernels = new ArrayList<>();
    private final LoadChecks checks;

    private SyntheticLoad(EventLoopGroup group, LoadChecks checks) {
        this.group = group;
        this.checks = checks;
    }

    /** Connects the kernels to the pager at {@code target} (plaintext) and starts them; returns at once. */
    public static SyntheticLoad start(String target, Options o, int pageSize) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(o.loops(), new DefaultThreadFactory("synthetic-load", true),
                NettyTransport.ioHandlerFactory());
        SyntheticLoad load = new SyntheticLoad(group, new LoadChecks(o.sharedFutexes() ? o.inFlight() : 0));
        int connections = o.connections() == 0 ? o.streams() : o.connections();
        Class<? extends Channel> type = NettyTransport.nativeEpoll() ? EpollSocketChannel.class : NioSocketChannel.class;
        List<EventLoop> loops = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            EventLoop loop = group.next();
            loops.add(loop);
            // The channel's I/O and its callbacks on one loop (an EventLoop is a group of itself);
            // a callback replayed by another thread (a call buffered while the name resolves) hops to it.
            load.channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().eventLoopGroup(loop)
                    .channelType(type).executor(r -> {
                        if (loop.inEventLoop()) {
                            r.run();
                        } else {
                            loop.execute(r);
                        }
                    }).build());
        }
        for (int k = 0; k < o.streams(); k++) {
            long base = o.sharedFutexes() ? 0 : (long) k * o.inFlight() * STRIDE;
            load.kernels.add(new VirtualKernel("synthetic-" + k, k + 1, OBJECT, pageSize, loops.get(k % connections),
                    load.checks, base, STRIDE, o.inFlight(), o.cycles()));
        }
        for (int k = 0; k < o.streams(); k++) {
            load.kernels.get(k).start(load.channels.get(k % connections));
        }
        return load;
    }

    /** Lock/unlock cycles completed so far (each three XP messages at the pager: lock, grant, release). */
    public long cycles() {
        return checks.cycles();
    }

    public long errors() {
        return checks.errors();
    }

    /** The first protocol error's description, or null. */
    public String firstError() {
        return checks.firstError();
    }

    /** Relinquishes that reached a kernel after it had released the futex (shared futexes only). */
    public long relinquishesCrossed() {
        return checks.relinquishesCrossed();
    }

    /** Completes when every kernel's stream has ended. */
    public CompletableFuture<Void> done() {
        return CompletableFuture.allOf(kernels.stream().map(VirtualKernel::done).toArray(CompletableFuture[]::new));
    }

    /** Stops every kernel: no more locks; each half-closes once its threads rest. */
    public void stop() {
        kernels.forEach(VirtualKernel::stop);
    }

    /** Stops, waits for the streams to end (at most {@code seconds}), and closes the connections and loops. */
    public void stopAndWait(long seconds) throws Exception {
        stop();
        try {
            done().get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            checks.error("streams not ended " + seconds + " s after the stop");
        }
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
