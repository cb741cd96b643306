package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcResult;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.ReceiveStatus;
import io.machxp.kernel.net.CallGate;
import io.machxp.kernel.net.MachIpcService;
import io.machxp.kernel.net.ServedKernel;
import io.machxp.kernel.net.TaskHandles;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.MachMsgReply;
import io.machxp.proto.task.MachMsgRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * mach_msg over gRPC takes a message off its queue only for a caller still there, and only if its
 * reply fits the transport (review F3, F4): the service driven on the core's thread with a call
 * whose cancellation the test sets - as gRPC's transport does, before the core hears of it.
 */
class MachIpcServiceGateTest {
    private final CoreFixture k = new CoreFixture(true);
    private final TaskHandles handles = new TaskHandles();
    private final long handle = handles.issue(k.core, k.task.id);
    /** The core's actions the service asked for, run when the test says (the core thread's queue). */
    private final List<Runnable> queued = new ArrayList<>();
    private final MachIpcService service = new MachIpcService(new ServedKernel() {
        @Override
        public String name() {
            return "A";
        }

        @Override
        public int kernelId() {
            return 1;
        }

        @Override
        public KernelCore core() {
            return k.core;
        }

        @Override
        public KernelStats stats() {
            return k.stats;
        }

        @Override
        public TaskHandles taskHandles() {
            return handles;
        }

        @Override
        public void execute(Runnable action) {
            queued.add(action);
        }

        @Override
        public io.micrometer.core.instrument.Timer lockLatency() {
            return null;
        }
    });

    private void runCore() {
        while (!queued.isEmpty()) {
            queued.remove(0).run();
        }
    }

    /** A gRPC call's server end: what was sent on it; cancelled when the test says, its handler run later (or never). */
    static final class Call extends ServerCallStreamObserver<MachMsgReply> {
        final List<MachMsgReply> replies = new ArrayList<>();
        boolean cancelled;
        boolean completed;
        Throwable error;
        Runnable onCancel;

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public void setOnCancelHandler(Runnable r) {
            onCancel = r;
        }

        @Override
        public void setCompression(String c) {}

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable r) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void request(int n) {}

        @Override
        public void setMessageCompression(boolean e) {}

        @Override
        public void onNext(MachMsgReply v) {
            replies.add(v);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }

    private <T> T port(Function<IpcCore, IpcResult<T>> routine) {
        Answer<IpcResult<T>> a = new Answer<>();
        k.core.ipc().port(k.task.id, routine, a);
        return a.value().orThrow("routine");
    }

    private int allocate() {
        return port(ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
    }

    private ReceiveStatus status(int p) {
        return port(ipc -> ipc.machPortGetReceiveStatus(k.task.id, p));
    }

    private KernReturn send(MachThread t, MachMessage m) {
        Answer<MsgReturn> a = new Answer<>();
        k.core.ipc().machMsg(k.task.id, t.tid, m, Mach.MACH_SEND_MSG, 0, 0, 0, a);
        return a.value().code();
    }

    private MsgReturn poll(MachThread t, int p) {
        Answer<MsgReturn> a = new Answer<>();
        k.core.ipc().machMsg(k.task.id, t.tid, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 30, p, 0, a);
        return a.value();
    }

    private MachMsgRequest receive(MachThread t, int p, int option) {
        return MachMsgRequest.newBuilder().setTask(handle).setThread(t.tid).setOption(Mach.MACH_RCV_MSG | option)
                .setRcvSize(1 << 30).setRcvName(p).build();
    }

    @Test
    void aMessageArrivingForACancelledReceiveStaysQueued() {
        MachThread receiver = k.thread();
        MachThread sender = k.thread();
        MachThread other = k.thread();
        int p = allocate();
        Call call = new Call();
        service.machMsg(receive(receiver, p, 0), call);
        runCore(); // the receive waits
        call.cancelled = true; // the client went away; the core has not run the cancel handler yet
        assertThat(send(sender, MachMessage.to(p, MsgType.MAKE_SEND, 5))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(status(p).msgcount()).as("not taken for a call nobody reads").isEqualTo(1);
        call.onCancel.run();
        runCore();
        MsgReturn r = poll(other, p);
        assertThat(r.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(r.message().id()).isEqualTo(5);
    }

    @Test
    void aCancelledStreamTakesNoMoreMessages() {
        MachThread receiver = k.thread();
        MachThread sender = k.thread();
        MachThread other = k.thread();
        int p = allocate();
        Call call = new Call();
        service.machMsgReceive(receive(receiver, p, 0), call);
        runCore();
        assertThat(send(sender, MachMessage.to(p, MsgType.MAKE_SEND, 1))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        runCore(); // handed out; the stream receives again
        assertThat(call.replies).hasSize(1);
        call.cancelled = true;
        assertThat(send(sender, MachMessage.to(p, MsgType.MAKE_SEND, 2))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        runCore();
        assertThat(status(p).msgcount()).isEqualTo(1);
        call.onCancel.run();
        runCore();
        assertThat(poll(other, p).message().id()).isEqualTo(2);
        assertThat(call.replies.stream().filter(MachMsgReply::hasMsg)).as("only the first message went on the stream")
                .hasSize(1);
    }

    /** A message whose reply would pass the gRPC limit: MACH_RCV_TOO_LARGE, kept with MACH_RCV_LARGE, destroyed without. */
    @Test
    void aMessageLargerThanTheTransportTakesIsTooLarge() {
        MachThread receiver = k.thread();
        MachThread sender = k.thread();
        int p = allocate();
        int reply = allocate();
        byte[] big = new byte[CallGate.MAX_GRPC_MESSAGE_BYTES];
        assertThat(send(sender, MachMessage.to(p, MsgType.MAKE_SEND, 9).withReply(reply, MsgType.MAKE_SEND_ONCE)
                .withBody(new MsgItem.OutOfLine(io.machxp.kernel.ipc.OolRegion.of(big), false)))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        Call large = new Call();
        service.machMsg(receive(receiver, p, Mach.MACH_RCV_LARGE), large);
        runCore();
        assertThat(large.replies).hasSize(1);
        assertThat(KernReturn.of(large.replies.get(0).getKernReturn())).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
        assertThat(status(p).msgcount()).as("still queued").isEqualTo(1);

        Call plain = new Call();
        service.machMsg(receive(receiver, p, 0), plain);
        runCore();
        MachMsgReply r = plain.replies.get(0);
        assertThat(KernReturn.of(r.getKernReturn())).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
        assertThat(r.getMsg().getBodyCount()).as("header only").isZero();
        assertThat(r.getMsg().getId()).isEqualTo(9);
        assertThat(status(p).msgcount()).isZero();
        MsgReturn notified = poll(sender, reply);
        assertThat(notified.message().id()).as("its reply right ended unused").isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
    }
}
