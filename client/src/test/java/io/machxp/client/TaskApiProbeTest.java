package io.machxp.client;

import static io.machxp.client.RawKernel.lock;
import static io.machxp.client.RawKernel.unlock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.task.MachIpcGrpc;
import io.machxp.proto.task.MachMessage;
import io.machxp.proto.task.MachMsgItem;
import io.machxp.proto.task.MachMsgReply;
import io.machxp.proto.task.MachMsgRequest;
import io.machxp.proto.task.MachPortAllocateRequest;
import io.machxp.proto.task.MachPortNameRequest;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.TaskWatchEvent;
import io.machxp.proto.task.TaskWatchRequest;
import io.machxp.proto.task.ThreadTerminateRequest;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The task API probed by an outside reviewer: a client written from task.proto and the docs
 * alone (raw stubs, {@link RawKernel}), against an embedded pager and kernel on loopback. These
 * probes cover what TaskContractProbeTest and MachIpcContractProbeTest do not: streams a client
 * holds open (task_watch, streamed receives) and what ends them, calls left waiting when their
 * thread or task ends, and values at the edges of the proto's unsigned fields. Each states the
 * promise it checks and that the kernel goes on serving.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TaskApiProbeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    // task.proto's MachIpc comments and GNU Mach's mach/message.h, mach/port.h
    private static final int RIGHT_RECEIVE = 1;
    private static final int MAKE_SEND_ONCE = 21;
    private static final int SEND_MSG = 0x1;
    private static final int RCV_MSG = 0x2;
    private static final int RCV_TIMEOUT = 0x100;
    private static final int MACH_SEND_NO_BUFFER = 0x1000000d;
    private static final int RIGHT_PORT_SET = 3;
    private static final int MACH_RCV_TIMED_OUT = 0x10004003;
    private static final int MACH_RCV_PORT_CHANGED = 0x10004006;
    private static final int MACH_RCV_PORT_DIED = 0x10004009;

    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
    private final RawKernel a = new RawKernel(cluster.kernelTargets().get(0));

    TaskApiProbeTest() throws Exception {}

    @AfterEach
    void close() {
        a.close();
        cluster.close();
    }

    private int receivePort(long task) {
        MachPortAllocateRequest r = MachPortAllocateRequest.newBuilder().setTask(task).setRight(RIGHT_RECEIVE).build();
        return a.ipc().machPortAllocate(r).getName();
    }

    private int queued(long task, int port) {
        return a.ipc().machPortGetReceiveStatus(MachPortNameRequest.newBuilder().setTask(task).setName(port).build())
                .getMsgcount();
    }

    /** A message to {@code port} through a send-once right made from its receive right (no qlimit). */
    private static MachMsgRequest sendOnce(long task, int thread, int port, int id, int bytes) {
        MachMessage msg = MachMessage.newBuilder().setBits(MAKE_SEND_ONCE).setRemotePort(port).setId(id)
                .addBody(MachMsgItem.newBuilder().setInlineData(ByteString.copyFrom(new byte[bytes]))).build();
        return MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(SEND_MSG).setMsg(msg).build();
    }

    /** A receive on {@code name} by {@code thread} that does not wait (MACH_RCV_TIMEOUT 0). */
    private static MachMsgRequest poll(long task, int thread, int name) {
        return MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(RCV_MSG | RCV_TIMEOUT)
                .setRcvSize(1 << 20).setRcvName(name).build();
    }

    private void aStillServes() {
        long task = a.task("after");
        long base = a.map(task, "obj");
        int t = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, t, base + 8));
        a.call().vmUnlockFutex(unlock(task, t, base + 8));
        assertThat(a.word(task, base + 8)).isZero();
    }

    /** A task_watch stream seen from the client: its events, and how it ended. */
    private static final class Watch implements StreamObserver<TaskWatchEvent> {
        final CompletableFuture<TaskWatchEvent> placed = new CompletableFuture<>();
        final CompletableFuture<Status> ended = new CompletableFuture<>();

        @Override
        public void onNext(TaskWatchEvent e) {
            placed.complete(e);
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended.complete(Status.OK);
        }
    }

    private Watch watch(long task) {
        Watch w = new Watch();
        MachTaskGrpc.newStub(a.channel).taskWatch(TaskWatchRequest.newBuilder().setTask(task).build(), w);
        return w;
    }

    /** A MachMsgReceive stream with manual flow control: the client takes one message, then reads nothing until told. */
    private final class ManualReceive {
        final BlockingQueue<MachMsgReply> got = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> closed = new CompletableFuture<>();
        final ClientCall<MachMsgRequest, MachMsgReply> call = a.channel.newCall(MachIpcGrpc.getMachMsgReceiveMethod(),
                CallOptions.DEFAULT);
        final int thread;

        ManualReceive(long task, int thread, int port) {
            this.thread = thread;
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(MachMsgReply m) {
                    got.add(m);
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    closed.complete(status);
                }
            }, new Metadata());
            call.sendMessage(MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(RCV_MSG)
                    .setRcvSize(1 << 20).setRcvName(port).build());
            call.halfClose();
            call.request(1);
            await().atMost(WAIT).until(() -> "mach_msg".equals(a.blockedIn(thread)));
        }
    }

    // ---- streams a client holds open -------------------------------------------------------------

    /**
     * A task_watch stream whose task ends by task_terminate is ended by the kernel (OK): the client
     * learns its task is gone, and the stream does not stay open for a task that no longer exists.
     */
    @Test
    void aWatchEndsWhenItsTaskIsTerminated() throws Exception {
        long task = a.task("watched");
        Watch w = watch(task);
        assertThat(w.placed.get(30, TimeUnit.SECONDS).getTask()).isEqualTo(task);
        a.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
        assertThat(w.ended.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        aStillServes();
    }

    /**
     * The cost of a watch that outlives its task: a kernel serves at most 1,024 calls at once on a
     * connection (docs/limits.md), so a client that watches each task it creates, as task.proto
     * asks, and ends each with task_terminate must not use that budget up. Here 1,100 tasks in a
     * row on one channel; the kernel still answers the channel's next call.
     */
    @Test
    void watchesOfTerminatedTasksDoNotUseUpTheConnection() throws Exception {
        List<Watch> watches = new ArrayList<>();
        for (int i = 0; i < 1_100; i++) {
            long task = a.call().withDeadlineAfter(10, TimeUnit.SECONDS)
                    .taskCreate(io.machxp.proto.task.TaskCreateRequest.newBuilder().setName("t" + i).build()).getTask();
            Watch w = watch(task);
            w.placed.get(10, TimeUnit.SECONDS);
            a.call().withDeadlineAfter(10, TimeUnit.SECONDS)
                    .taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
            watches.add(w);
        }
        for (Watch w : watches) {
            assertThat(w.ended.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        }
        aStillServes();
    }

    /**
     * A streamed receive (MachMsgReceive) whose client does not read what it was sent stops
     * receiving: the messages stay queued on the port, where the sender's budget of queued bytes
     * (docs/limits.md: its client peer's share of 128 MiB, 14 MiB) bounds them and MACH_SEND_NO_BUFFER tells the sender,
     * instead of being moved without bound into the stream's buffers inside the kernel. Once the
     * client reads again, every message comes, in order.
     */
    @Test
    void aStreamedReceiveWaitsForItsReader() throws Exception {
        long task = a.task("stream");
        int port = receivePort(task);
        int receiver = a.thread(task, 10);
        int sender = a.thread(task, 10);
        ManualReceive stream = new ManualReceive(task, receiver, port);
        BlockingQueue<MachMsgReply> got = stream.got;
        ClientCall<MachMsgRequest, MachMsgReply> call = stream.call;
        CompletableFuture<Status> closed = stream.closed;
        await().atMost(WAIT).until(() -> "mach_msg".equals(a.blockedIn(receiver)));

        int bytes = 64 << 10;
        int sent = 0;
        int refused = 0;
        while (sent < 1_000) { // 1,000 x 64 KiB: four times the sender's peer's share of the budget
            int code = a.ipc().machMsg(sendOnce(task, sender, port, sent, bytes)).getKernReturn();
            if (code != 0) {
                refused = code;
                break;
            }
            sent++;
        }
        assertThat(refused).as("the sender meets its budget (after %d messages)", sent).isEqualTo(MACH_SEND_NO_BUFFER);
        assertThat(queued(task, port)).as("of %d messages sent, still queued on the port", sent)
                .isGreaterThanOrEqualTo(sent - 64);

        int total = sent;
        call.request(Integer.MAX_VALUE); // the client reads again: everything comes, in order
        await().atMost(WAIT).until(() -> got.size() == total);
        int id = 0;
        for (MachMsgReply m : got) {
            assertThat(m.getKernReturn()).isZero();
            assertThat(m.getMsg().getId()).isEqualTo(id++);
        }
        assertThat(queued(task, port)).isZero();
        assertThat(a.ipc().machMsg(sendOnce(task, sender, port, sent, bytes)).getKernReturn()).as("room again").isZero();
        await().atMost(WAIT).until(() -> got.size() == total + 1);
        call.cancel("done", null);
        assertThat(closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        aStillServes();
    }

    /**
     * docs/mach-ipc.md: "A thread in a streamed receive is inside a call between messages too". A
     * stream waiting for its client to read holds its thread so: blocked in mach_msg, another
     * call on it EBUSY; the thread's end ends the stream (ESRCH), and the messages it did not take
     * stay on the port for another receiver.
     */
    @Test
    void aStreamWaitingForItsReaderKeepsItsThreadInTheCall() throws Exception {
        long task = a.task("held");
        int port = receivePort(task);
        int receiver = a.thread(task, 10);
        int sender = a.thread(task, 10);
        ManualReceive stream = new ManualReceive(task, receiver, port);
        for (int i = 0; i < 100; i++) { // 6.4 MiB, more than a stream's buffers take
            assertThat(a.ipc().machMsg(sendOnce(task, sender, port, i, 64 << 10)).getKernReturn()).isZero();
        }
        // messages queued while the receiver is in mach_msg: it is held, not receiving
        await().atMost(WAIT).until(() -> queued(task, port) > 0 && "mach_msg".equals(a.blockedIn(receiver)));
        assertBusy(() -> a.ipc().machMsg(poll(task, receiver, port)));

        a.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(task).setThread(receiver).build());
        stream.call.request(Integer.MAX_VALUE); // gRPC hands the client the end after the messages before it
        assertThat(stream.closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        int left = queued(task, port);
        assertThat(stream.got.size() + left).as("every message taken by the stream or still queued").isEqualTo(100);
        int other = a.thread(task, 10);
        for (int i = 0; i < left; i++) {
            MachMsgReply m = a.ipc().machMsg(poll(task, other, port));
            assertThat(m.getKernReturn()).isZero();
            assertThat(m.getMsg().getId()).isEqualTo(100 - left + i);
        }
        aStillServes();
    }

    /**
     * A stream waiting for its client to read is a receive waiting on its port (its thread is in
     * the call): the port's death ends it as it ends a waiting receive, with MACH_RCV_PORT_DIED
     * after the messages already received, and not with MACH_RCV_INVALID_NAME from a receive
     * started afresh once the client reads.
     */
    @Test
    void aStreamWaitingForItsReaderEndsWithItsPortsDeath() throws Exception {
        long task = a.task("dies");
        int port = receivePort(task);
        ManualReceive stream = heldStream(task, port);
        a.ipc().machPortDestroy(MachPortNameRequest.newBuilder().setTask(task).setName(port).build());
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(stream.thread)));
        assertThat(a.ipc().machMsg(poll(task, stream.thread, receivePort(task))).getKernReturn())
                .as("its thread is free for another call before the client reads").isEqualTo(MACH_RCV_TIMED_OUT);
        assertStreamEndsWith(stream, MACH_RCV_PORT_DIED);
        aStillServes();
    }

    /**
     * A port renamed while the stream waits for its reader is the same port (mach_port_rename):
     * the stream goes on receiving on it under its new name, every message in order, until it dies.
     */
    @Test
    void aStreamWaitingForItsReaderFollowsItsPortsRename() throws Exception {
        long task = a.task("renamed");
        int port = receivePort(task);
        ManualReceive stream = heldStream(task, port);
        int renamed = 0x4242;
        assertThat(a.ipc().machPortRename(io.machxp.proto.task.MachPortSetValueRequest.newBuilder().setTask(task)
                .setName(port).setValue(renamed).build()).getKernReturn()).isZero();
        stream.call.request(Integer.MAX_VALUE);
        await().atMost(WAIT).until(() -> stream.got.size() >= 100 || stream.closed.isDone());
        assertThat(stream.closed).as("the stream goes on after the rename").isNotDone();
        a.ipc().machPortDestroy(MachPortNameRequest.newBuilder().setTask(task).setName(renamed).build());
        assertStreamEndsWith(stream, MACH_RCV_PORT_DIED);
        assertThat(stream.got).hasSize(101);
        aStillServes();
    }

    /** A client cancelling a stream that waits for it to read frees the thread; the messages stay queued. */
    @Test
    void aStreamCancelledWhileWaitingForItsReaderLeavesItsMessages() throws Exception {
        long task = a.task("cancelled");
        int port = receivePort(task);
        ManualReceive stream = heldStream(task, port);
        stream.call.cancel("the client is done", null);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(stream.thread)));
        int left = queued(task, port);
        assertThat(left).isPositive();
        MachMsgReply m = a.ipc().machMsg(poll(task, stream.thread, port));
        assertThat(m.getKernReturn()).isZero();
        assertThat(m.getMsg().getId()).as("the first message the stream did not take").isEqualTo(100 - left);
        aStillServes();
    }

    /**
     * The same for a port that joins a set while the stream waits for its reader: a receive
     * waiting on the port gets MACH_RCV_PORT_CHANGED, and so does the stream.
     */
    @Test
    void aStreamWaitingForItsReaderEndsWhenItsPortJoinsASet() throws Exception {
        long task = a.task("joins");
        int port = receivePort(task);
        int set = a.ipc().machPortAllocate(MachPortAllocateRequest.newBuilder().setTask(task)
                .setRight(RIGHT_PORT_SET).build()).getName();
        ManualReceive stream = heldStream(task, port);
        assertThat(a.ipc().machPortMoveMember(io.machxp.proto.task.MachPortMoveMemberRequest.newBuilder()
                .setTask(task).setMember(port).setAfter(set).build()).getKernReturn()).isZero();
        assertStreamEndsWith(stream, MACH_RCV_PORT_CHANGED);
        aStillServes();
    }

    /** A stream on {@code port} held between messages: its client has not read, messages wait on the port. */
    private ManualReceive heldStream(long task, int port) {
        int receiver = a.thread(task, 10);
        int sender = a.thread(task, 10);
        ManualReceive stream = new ManualReceive(task, receiver, port);
        for (int i = 0; i < 100; i++) { // 6.4 MiB, more than a stream's buffers take
            assertThat(a.ipc().machMsg(sendOnce(task, sender, port, i, 64 << 10)).getKernReturn()).isZero();
        }
        await().atMost(WAIT).until(() -> queued(task, port) > 0 && "mach_msg".equals(a.blockedIn(receiver)));
        return stream;
    }

    /** The client reads again: the messages received before come in order, then the end with {@code code}. */
    private static void assertStreamEndsWith(ManualReceive stream, int code) throws Exception {
        stream.call.request(Integer.MAX_VALUE);
        assertThat(stream.closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        List<MachMsgReply> got = new ArrayList<>(stream.got);
        assertThat(got).isNotEmpty();
        for (int i = 0; i < got.size() - 1; i++) {
            assertThat(got.get(i).getKernReturn()).isZero();
            assertThat(got.get(i).getMsg().getId()).isEqualTo(i);
        }
        assertThat(got.get(got.size() - 1).getKernReturn()).as("the stream's last reply, 0x%x", code).isEqualTo(code);
    }

    /** The call fails FAILED_PRECONDITION with EBUSY: its thread is inside another call. */
    private static void assertBusy(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
        assertThat(t).isInstanceOf(io.grpc.StatusRuntimeException.class);
        assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(RawKernel.errno(t)).isEqualTo("EBUSY");
    }

    // ---- calls left waiting when their thread or task ends ------------------------------------------

    /**
     * A mach_msg receive waiting when its thread is terminated, and a streamed receive waiting when
     * its task is: both calls are answered (not left open for good), and the port's other users go on.
     */
    @Test
    void receivesWaitingWhenTheirThreadOrTaskEndsAreAnswered() throws Exception {
        long task = a.task("rcv");
        int port = receivePort(task);
        int t = a.thread(task, 10);
        ListenableFuture<MachMsgReply> waiting = a.ipcAsync().machMsg(MachMsgRequest.newBuilder().setTask(task)
                .setThread(t).setOption(RCV_MSG).setRcvSize(4096).setRcvName(port).build());
        await().atMost(WAIT).until(() -> "mach_msg".equals(a.blockedIn(t)));
        a.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(task).setThread(t).build());
        Throwable outcome = null;
        try {
            waiting.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            outcome = e;
        }
        assertThat(waiting).isDone();
        if (outcome != null) {
            assertThat(RawKernel.errno(outcome)).isEqualTo("ESRCH");
        }

        int t2 = a.thread(task, 10);
        CompletableFuture<Status> streamEnded = new CompletableFuture<>();
        MachIpcGrpc.newStub(a.channel).machMsgReceive(MachMsgRequest.newBuilder().setTask(task).setThread(t2)
                .setOption(RCV_MSG).setRcvSize(4096).setRcvName(port).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(MachMsgReply m) {}

                    @Override
                    public void onError(Throwable e) {
                        streamEnded.complete(Status.fromThrowable(e));
                    }

                    @Override
                    public void onCompleted() {
                        streamEnded.complete(Status.OK);
                    }
                });
        await().atMost(WAIT).until(() -> "mach_msg".equals(a.blockedIn(t2)));
        a.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
        assertThat(streamEnded.get(30, TimeUnit.SECONDS)).isNotNull();
        aStillServes();
    }

    // ---- what one client's tasks cost the others ---------------------------------------------------

    /**
     * KernelThreads lists every thread of the kernel, with its task's name, for every client (the
     * live view polls it). One client's task with a name of the allowed 255 characters and 16,384
     * threads (no bound says fewer) must not make that reply too large for a client with gRPC's
     * default 4 MiB limit: every other client still gets an answer.
     */
    @Test
    void oneClientsThreadsDoNotMakeKernelThreadsTooLargeForOthers() throws Exception {
        long task = a.task("n".repeat(255));
        List<ListenableFuture<io.machxp.proto.task.ThreadCreateReply>> batch = new ArrayList<>();
        for (int i = 0; i < 16_384; i++) {
            batch.add(a.async.threadCreate(io.machxp.proto.task.ThreadCreateRequest.newBuilder().setTask(task)
                    .setPriority(1).build()));
            if (batch.size() == 256) {
                for (var f : batch) {
                    f.get(30, TimeUnit.SECONDS);
                }
                batch.clear();
            }
        }
        io.grpc.ManagedChannel plain = io.grpc.netty.NettyChannelBuilder.forTarget(cluster.kernelTargets().get(0))
                .usePlaintext().build(); // gRPC's default inbound limit, 4 MiB
        try {
            io.machxp.proto.task.KernelThreadsReply reply = MachTaskGrpc.newBlockingStub(plain).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .kernelThreads(io.machxp.proto.task.KernelThreadsRequest.getDefaultInstance());
            assertThat(reply.getThreadsCount()).isPositive();
            assertThat(reply.getSerializedSize()).isLessThan(4 << 20);
            assertThat(reply.getThreadsCount() + reply.getThreadsOmitted()).as("every thread listed or counted")
                    .isGreaterThanOrEqualTo(16_384);
            assertThat(reply.getThreadsOmitted()).isPositive();
        } finally {
            plain.shutdownNow();
        }
        aStillServes();
    }

    /**
     * Names, rights, ids and limits at the top of their uint32 range, through MachIpc: Mach's codes
     * as values (KERN_INVALID_NAME 15, KERN_INVALID_VALUE 18, KERN_INVALID_RIGHT 17), ESRCH for a
     * thread id no thread has; nothing changes and the kernel serves.
     */
    @Test
    void idsAndValuesAtTheTopOfTheirRange() {
        long task = a.task("edges");
        int port = receivePort(task);
        for (int name : new int[] {-1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            int code = a.ipc().machPortDestroy(MachPortNameRequest.newBuilder().setTask(task).setName(name).build())
                    .getKernReturn();
            assertThat(code).as("destroy name %s", Integer.toUnsignedString(name)).isIn(15, 17);
        }
        for (int right : new int[] {-1, 5, Integer.MAX_VALUE}) {
            int code = a.ipc().machPortAllocate(MachPortAllocateRequest.newBuilder().setTask(task).setRight(right).build())
                    .getKernReturn();
            assertThat(code).as("allocate right %s", Integer.toUnsignedString(right)).isEqualTo(18);
        }
        int q = a.ipc().machPortSetQlimit(io.machxp.proto.task.MachPortSetQlimitRequest.newBuilder().setTask(task)
                .setName(port).setQlimit(-1).build()).getKernReturn();
        assertThat(q).isEqualTo(18);
        for (int tid : new int[] {0, -1, Integer.MAX_VALUE}) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> a.ipc().machMsg(MachMsgRequest
                    .newBuilder().setTask(task).setThread(tid).setOption(RCV_MSG | RCV_TIMEOUT).setRcvName(port).build()));
            assertThat(RawKernel.errno(t)).as("thread %s", Integer.toUnsignedString(tid)).isEqualTo("ESRCH");
        }
        assertThat(queued(task, port)).isZero();
        aStillServes();
    }

    // ---- the edges of unsigned fields ----------------------------------------------------------------

    /**
     * timeout_millis is a uint64: values past Java's signed range (2^64 - 1 is what a C client's
     * UINT64_MAX or a "forever" of -1 becomes) mean a wait longer than any run, never "expired
     * already". The lock waits, and the owner's unlock hands the futex over.
     */
    @Test
    void lockTimeoutsAtTheTopOfTheirRangeWait() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int owner = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, owner, base));
        for (long timeout : new long[] {-1L, Long.MIN_VALUE, Long.MAX_VALUE}) {
            int waiter = a.thread(task, 10);
            ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(
                    lock(task, waiter, base).toBuilder().setTimeoutMillis(timeout).build());
            await().atMost(WAIT).until(() -> waiting.isDone() || "vm_lock_futex".equals(a.blockedIn(waiter)));
            assertThat(waiting.isDone()).as("timeout %s answered at once", Long.toUnsignedString(timeout)).isFalse();
            a.call().vmUnlockFutex(unlock(task, owner, base));
            waiting.get(30, TimeUnit.SECONDS);
            assertThat(a.word(task, base) & 0x3fffffff).isEqualTo(waiter);
            owner = waiter;
        }
        aStillServes();
    }
}
