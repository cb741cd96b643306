package io.machxp.bench.jmh;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Mach IPC benchmarks behind `machxp jmh`, each next to its baseline in the same run: one-way
 * messages and rpcs between tasks of one kernel in-process against SynchronousQueue hand-offs,
 * an rpc between two kernels over the Netty links against a bare Netty echo on the same loopback,
 * and one-way throughput between two kernels from several sending threads.
 */
public final class IpcBenchmarks {
    /** A receive or a blocked send gives up after this long, so that a group's last operation ends. */
    static final long GIVE_UP_MS = 200;
    static final int ONE_WAY_ID = 1;
    static final int RPC_ID = 2;

    private IpcBenchmarks() {}

    /** One kernel, in-process: a client task with a send right to the server task's port. */
    @State(Scope.Group)
    public static class OneKernel {
        EmbeddedCluster cluster;
        LocalThread client;
        LocalThread server;
        int service;
        int clientName;
        int reply;
        Thread echo;
        final SynchronousQueue<Integer> requests = new SynchronousQueue<>();

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            cluster = EmbeddedCluster.start(1, true, Map.of("bench", 4096L));
            LocalTask serverTask = cluster.kernel(0).taskCreate("server");
            LocalTask clientTask = cluster.kernel(0).taskCreate("client");
            service = serverTask.machPortAllocate(PortRight.RECEIVE);
            serverTask.machPortSetQlimit(service, Mach.MACH_PORT_QLIMIT_MAX);
            clientName = 0x10000;
            clientTask.machPortInsertRight(clientName, serverTask, service, MsgType.MAKE_SEND);
            reply = clientTask.machPortAllocate(PortRight.RECEIVE);
            server = serverTask.threadCreate();
            client = clientTask.threadCreate();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            if (echo != null) {
                echo.interrupt();
                echo.join();
            }
            cluster.close();
        }
    }

    /** One-way: the client sends (blocking when the queue is full), the server receives. */
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class InProcess {
        @Benchmark
        @Group("oneWay")
        @GroupThreads(1)
        public MsgReturn send(OneKernel k) {
            return k.client.machMsg(MachMessage.to(k.clientName, MsgType.COPY_SEND, ONE_WAY_ID),
                    Mach.MACH_SEND_MSG | Mach.MACH_SEND_TIMEOUT, 0, 0, GIVE_UP_MS);
        }

        @Benchmark
        @Group("oneWay")
        @GroupThreads(1)
        public MsgReturn receive(OneKernel k) {
            return k.server.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1024, k.service, GIVE_UP_MS);
        }

        @Benchmark
        @Group("syncQueueOneWay")
        @GroupThreads(1)
        public boolean put(OneKernel k) throws InterruptedException {
            return k.requests.offer(ONE_WAY_ID, GIVE_UP_MS, TimeUnit.MILLISECONDS);
        }

        @Benchmark
        @Group("syncQueueOneWay")
        @GroupThreads(1)
        public Integer take(OneKernel k) throws InterruptedException {
            return k.requests.poll(GIVE_UP_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** RPC round trips on one kernel: the server thread answers with send+receive (the Mach idiom). */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class InProcessRpc {
        final OneKernel k = new OneKernel();
        MachMessage request;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            k.setUp();
            request = MachMessage.to(k.clientName, MsgType.COPY_SEND, RPC_ID).withReply(k.reply, MsgType.MAKE_SEND_ONCE);
            k.echo = new Thread(this::serve, "rpc-server");
            k.echo.setDaemon(true);
            k.echo.start();
        }

        /** Receive a request; then each time, reply and receive the next in one mach_msg. */
        private void serve() {
            int option = Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT;
            MachMessage answer = null;
            while (!Thread.currentThread().isInterrupted()) {
                MsgReturn r = k.server.machMsg(answer, option, 1024, k.service, GIVE_UP_MS);
                boolean got = r.message() != null;
                answer = got ? MachMessage.to(r.message().remotePort(), MsgType.MOVE_SEND_ONCE, RPC_ID + 100) : null;
                option = got ? option | Mach.MACH_SEND_MSG : Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            k.tearDown();
        }

        @Benchmark
        public MsgReturn rpc() {
            return k.client.machMsg(request, Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, 1024, k.reply, 0);
        }
    }

    /** The RPC baseline: a request and a reply through two SynchronousQueues and an echo thread. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class SyncQueueRpc {
        final SynchronousQueue<Integer> requests = new SynchronousQueue<>();
        final SynchronousQueue<Integer> replies = new SynchronousQueue<>();
        Thread echo;

        @Setup(Level.Trial)
        public void setUp() {
            echo = new Thread(() -> {
                try {
                    while (true) {
                        replies.put(requests.take() + 100);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "queue-echo");
            echo.setDaemon(true);
            echo.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            echo.interrupt();
            echo.join();
        }

        @Benchmark
        public Integer rpc() throws InterruptedException {
            requests.put(RPC_ID);
            return replies.take();
        }
    }

    /** Two kernels' IPC cores joined by the Netty links on loopback, with a service port on B published to A. */
    static final class TwoKernels {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final IpcKernel a;
        final IpcKernel b;
        final int service;

        TwoKernels() throws InterruptedException {
            List<IpcKernel> pair = IpcKernel.pair(group);
            a = pair.get(0);
            b = pair.get(1);
            service = b.allocate();
            b.publish(service, a);
        }

        void close() {
            a.close();
            b.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** An rpc from A to a server on B, and a bare Netty echo on the same loop group. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class AcrossKernels {
        TwoKernels k;
        NettyEcho echo;
        int reply;
        MachMessage request;

        @Setup(Level.Trial)
        public void setUp() throws InterruptedException {
            k = new TwoKernels();
            reply = k.a.allocate();
            k.b.serve(1, k.service, m -> MachMessage.to(m.remotePort(), MsgType.MOVE_SEND_ONCE, RPC_ID + 100));
            request = MachMessage.to(IpcKernel.PUBLISHED, MsgType.COPY_SEND, RPC_ID)
                    .withReply(reply, MsgType.MAKE_SEND_ONCE);
            echo = new NettyEcho(k.group);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            echo.close();
            k.close();
        }

        @Benchmark
        public MsgReturn rpc() {
            return k.a.msg(1, request, Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, reply).join();
        }

        /** The same size on the wire as the rpc's request frame. */
        @Benchmark
        public int nettyEcho() {
            return echo.call(request.size());
        }
    }

    /**
     * One-way throughput between two kernels. Per message, a sending thread hands one task to
     * kernel A's core thread (an event loop: one offer to its task queue, and a wake-up only when
     * the loop sleeps), which makes one mach_msg send with a zero send timeout of a prebuilt
     * 28-byte message; the sender does not wait for the answer. Every 1,000 messages it waits,
     * without taking a processor, until the server on kernel B has received as many as were sent
     * in all. On A the send becomes one LinkMessage frame, written with whatever else was queued
     * for the link since its last write, with one flush; B hands the frames of one read to its
     * core in one task.
     *
     * <p>Its own warm-up, longer than the others': with five kernel threads and three senders on
     * two cores the compilers get little processor time, and five iterations of 2 s still climbed
     * (22,000 to 496,000 messages/s, the JIT not done); fifteen reach the steady state.
     */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 15, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class Throughput {
        static final int BATCH = 1_000;
        /** A batch not received within this long has lost messages: the run fails rather than hangs. */
        static final long LOST_MS = 10_000;
        TwoKernels k;
        final AtomicLong sent = new AtomicLong();
        final Arrivals received = new Arrivals();
        final AtomicLong refused = new AtomicLong();
        final MachMessage message = MachMessage.to(IpcKernel.PUBLISHED, MsgType.COPY_SEND, ONE_WAY_ID)
                .withBody(MachMessage.int32(0));

        @Setup(Level.Trial)
        public void setUp() throws InterruptedException {
            k = new TwoKernels();
            k.b.serve(1, k.service, m -> {
                received.arrived();
                return null;
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (refused.get() > 0) {
                throw new IllegalStateException(refused.get() + " sends refused");
            }
            k.close();
        }

        @Benchmark
        @Threads(3)
        @OperationsPerInvocation(BATCH)
        public long oneWay() throws InterruptedException {
            IpcKernel a = k.a;
            for (int i = 0; i < BATCH; i++) {
                a.coreThread.execute(() -> a.core.machMsg(a.id, 2, message, Mach.MACH_SEND_MSG | Mach.MACH_SEND_TIMEOUT,
                        0, 0, 0, r -> {
                            if (!r.code().ok()) {
                                refused.incrementAndGet();
                            }
                        }));
            }
            long target = sent.addAndGet(BATCH);
            received.await(target, LOST_MS);
            return target;
        }
    }
}
