package io.machxp.kernel.net;

import static io.machxp.kernel.net.Answers.fail;
import static io.machxp.kernel.net.Answers.reply;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcResult;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortNames;
import io.machxp.kernel.ipc.ReceiveStatus;
import io.machxp.proto.task.*;
import java.util.function.Function;

/**
 * Mach IPC over gRPC (task.proto's MachIpc): each routine is handed to the core's event loop and
 * answered from it with Mach's return code as a value; a task handle this kernel did not give
 * out is ESRCH, as for the task interface. A mach_msg whose caller cancels is interrupted in the
 * core, so the thread is free again and a blocked send's rights go back to the task.
 */
public final class MachIpcService extends MachIpcGrpc.MachIpcImplBase {
    private final ServedKernel kernel;
    private final TaskHandles handles;

    public MachIpcService(ServedKernel kernel) {
        this.kernel = kernel;
        this.handles = kernel.taskHandles();
    }

    /** The task a handle names, with the core of the session that gave it out (null: answered unknown). */
    private TaskHandles.Ref taskOf(long handle, StreamObserver<?> out) {
        TaskHandles.Ref ref = handles.ref(handle);
        if (ref == null) {
            fail(out, handles.notFound(kernel.name(), handle)); // as MachTask's calls: a withdrawn one says why
        }
        return ref;
    }

    /** Runs a mach_port_* routine of task {@code handle} on the core thread and answers with {@code toMessage}. */
    private <T, R> void port(long handle, StreamObserver<R> out, Function<Long, Function<IpcCore, T>> routine,
            Function<T, R> toMessage) {
        TaskHandles.Ref ref = taskOf(handle, out);
        if (ref != null) {
            long task = ref.id();
            kernel.execute(() -> ref.core().ipc().port(task, routine.apply(task), reply(out, toMessage)));
        }
    }

    private static MachPortReply code(KernReturn k) {
        return MachPortReply.newBuilder().setKernReturn(k.code).setKernReturnName(k.name()).build();
    }

    private static MachPortReply result(IpcResult<Integer> r, boolean isName) {
        MachPortReply.Builder b = code(r.code()).toBuilder();
        if (r.value() != null) {
            if (isName) {
                b.setName(r.value());
            } else {
                b.setValue(r.value());
            }
        }
        return b.build();
    }

    /** A task handle's core id, or 0 (no task) for one this kernel did not give out: the routine then answers KERN_INVALID_TASK. */
    private long otherTask(long handle) {
        Long id = handles.taskId(handle);
        return id == null ? 0 : id;
    }

    @Override
    public void machPortAllocate(MachPortAllocateRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortAllocate(t, r.getRight()), x -> result(x, true));
    }

    @Override
    public void machPortDeallocate(MachPortNameRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortDeallocate(t, r.getName()), MachIpcService::code);
    }

    @Override
    public void machPortDestroy(MachPortNameRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortDestroy(t, r.getName()), MachIpcService::code);
    }

    @Override
    public void machPortModRefs(MachPortModRefsRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortModRefs(t, r.getName(), r.getRight(), r.getDelta()),
                MachIpcService::code);
    }

    @Override
    public void machPortGetRefs(MachPortModRefsRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortGetRefs(t, r.getName(), r.getRight()), x -> result(x, false));
    }

    @Override
    public void machPortType(MachPortNameRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortType(t, r.getName()), x -> result(x, false));
    }

    @Override
    public void machPortInsertRight(MachPortInsertRightRequest r, StreamObserver<MachPortReply> out) {
        long from = otherTask(r.getFromTask());
        port(r.getTask(), out, t -> ipc -> ipc.machPortInsertRight(t, r.getName(), from, r.getFromName(),
                MsgType.of(r.getDisposition())), MachIpcService::code);
    }

    @Override
    public void machPortExtractRight(MachPortExtractRightRequest r, StreamObserver<MachPortReply> out) {
        long to = otherTask(r.getToTask());
        port(r.getTask(), out, t -> ipc -> ipc.machPortExtractRight(t, r.getName(), MsgType.of(r.getDisposition()), to),
                (IpcResult<MsgItem.Port> x) -> {
                    MachPortReply.Builder b = code(x.code()).toBuilder();
                    if (x.value() != null) {
                        b.setName(x.value().name()).setMsgType(x.value().type().value);
                    }
                    return b.build();
                });
    }

    @Override
    public void machPortMoveMember(MachPortMoveMemberRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortMoveMember(t, r.getMember(), r.getAfter()), MachIpcService::code);
    }

    @Override
    public void machPortSetQlimit(MachPortSetQlimitRequest r, StreamObserver<MachPortReply> out) {
        int qlimit = (int) Math.min(r.getQlimit() & 0xFFFFFFFFL, Integer.MAX_VALUE);
        port(r.getTask(), out, t -> ipc -> ipc.machPortSetQlimit(t, r.getName(), qlimit), MachIpcService::code);
    }

    @Override
    public void machPortGetReceiveStatus(MachPortNameRequest r, StreamObserver<MachPortReceiveStatusReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortGetReceiveStatus(t, r.getName()),
                (IpcResult<ReceiveStatus> x) -> {
                    var b = MachPortReceiveStatusReply.newBuilder().setKernReturn(x.code().code)
                            .setKernReturnName(x.code().name());
                    ReceiveStatus s = x.value();
                    if (s != null) {
                        b.setPset(s.pset()).setSeqno(s.seqno()).setMscount(s.mscount()).setQlimit(s.qlimit())
                                .setMsgcount(s.msgcount()).setSorights(s.sorights()).setSrights(s.srights())
                                .setPdrequest(s.pdrequest()).setNsrequest(s.nsrequest());
                    }
                    return b.build();
                });
    }

    @Override
    public void machPortSetSeqno(MachPortSetValueRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortSetSeqno(t, r.getName(), r.getValue()), MachIpcService::code);
    }

    @Override
    public void machPortSetMscount(MachPortSetValueRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortSetMscount(t, r.getName(), r.getValue()), MachIpcService::code);
    }

    @Override
    public void machPortRename(MachPortSetValueRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortRename(t, r.getName(), r.getValue()), MachIpcService::code);
    }

    @Override
    public void machPortNames(MachPortNameRequest r, StreamObserver<MachPortNamesReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortNames(t), (IpcResult<PortNames> x) -> {
            var b = MachPortNamesReply.newBuilder().setKernReturn(x.code().code).setKernReturnName(x.code().name());
            if (x.value() != null) {
                for (int i = 0; i < x.value().names().length; i++) {
                    b.addNames(x.value().names()[i]).addTypes(x.value().types()[i]);
                }
            }
            return b.build();
        });
    }

    @Override
    public void machPortGetSetStatus(MachPortNameRequest r, StreamObserver<MachPortNamesReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortGetSetStatus(t, r.getName()), (IpcResult<int[]> x) -> {
            var b = MachPortNamesReply.newBuilder().setKernReturn(x.code().code).setKernReturnName(x.code().name());
            if (x.value() != null) {
                for (int member : x.value()) {
                    b.addNames(member);
                }
            }
            return b.build();
        });
    }

    @Override
    public void machPortRequestNotification(MachPortRequestNotificationRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortRequestNotification(t, r.getName(), r.getVariant(), r.getSync(),
                r.getNotify(), MsgType.of(r.getDisposition())), x -> result(x, true));
    }

    @Override
    public void machMsg(MachMsgRequest r, StreamObserver<MachMsgReply> out) {
        TaskHandles.Ref ref = taskOf(r.getTask(), out);
        if (ref == null) {
            return;
        }
        long task = ref.id();
        var msg = r.hasMsg() ? IpcMessages.fromProto(r.getMsg()) : null;
        int rcvSize = (int) Math.min(r.getRcvSize() & 0xFFFFFFFFL, Integer.MAX_VALUE);
        long timeout = r.getTimeoutMillis() & 0xFFFFFFFFL;
        Reply<MsgReturn> reply = reply(out, IpcMessages::toProto);
        var call = (ServerCallStreamObserver<MachMsgReply>) out;
        // A caller that goes away stops waiting: the core answers it MACH_*_INTERRUPTED, which goes nowhere;
        // a message arriving before that is not taken for it (CallGate: checked before the dequeue).
        call.setOnCancelHandler(() -> kernel.execute(() -> ref.core().ipc().abort(task, r.getThread(), reply)));
        CallGate gate = new CallGate(call, () -> false);
        kernel.execute(() -> ref.core().ipc().machMsg(task, r.getThread(), msg, r.getOption(), rcvSize,
                r.getRcvName(), timeout, gate, reply));
    }

    @Override
    public void machPortInsertRemote(MachPortInsertRemoteRequest r, StreamObserver<MachPortReply> out) {
        port(r.getTask(), out, t -> ipc -> ipc.machPortInsertRemote(t, r.getName(), MsgType.of(r.getDisposition()),
                r.getKernel(), r.getToTask(), true, r.getToName()), MachIpcService::code);
    }

    /**
     * mach_msg receiving again and again on one thread: each message is one reply on the stream;
     * the first result that is not a message ends it (with that reply), as does the client's cancel.
     * No demand but gRPC's isReady: a cancel drops what is in gRPC's buffers (task.proto).
     */
    @Override
    public void machMsgReceive(MachMsgRequest r, StreamObserver<MachMsgReply> out) {
        TaskHandles.Ref ref = taskOf(r.getTask(), out);
        if (ref == null) {
            return;
        }
        StreamedReceive receive = new StreamedReceive(kernel, (ServerCallStreamObserver<MachMsgReply>) out);
        kernel.execute(() -> start(receive, ref, r, StreamedReceive.UNBOUNDED));
    }

    /**
     * The streamed receive with the client's demand: a message is dequeued only for one the client
     * asked for, so a cancel leaves every message it did not ask for queued (review MED-1).
     */
    @Override
    public StreamObserver<MachMsgDemand> machMsgReceiveOnDemand(StreamObserver<MachMsgReply> out) {
        StreamedReceive receive = new StreamedReceive(kernel, (ServerCallStreamObserver<MachMsgReply>) out);
        return new StreamObserver<>() {
            // gRPC delivers one inbound message at a time
            private boolean started;
            private boolean refused;

            @Override
            public void onNext(MachMsgDemand d) {
                if (refused) {
                    return;
                }
                long n = d.getRequest() & 0xFFFFFFFFL;
                if (!started && !d.hasStart()) {
                    refused = true;
                    fail(out, KernelError.of(Errno.EINVAL, "the first MachMsgDemand of a MachMsgReceiveOnDemand "
                            + "carries `start` (the receive: task, thread, rcv_name, rcv_size); send it first"));
                } else if (!started) {
                    TaskHandles.Ref ref = taskOf(d.getStart().getTask(), out);
                    refused = ref == null;
                    started = ref != null;
                    if (started) {
                        kernel.execute(() -> start(receive, ref, d.getStart(), n));
                    }
                } else if (d.hasStart()) {
                    refused = true;
                    kernel.execute(() -> receive.refuse(KernelError.of(Errno.EINVAL, "only the first MachMsgDemand "
                            + "of a MachMsgReceiveOnDemand carries `start`; later ones carry only `request`")));
                } else {
                    kernel.execute(() -> receive.request(n));
                }
            }

            @Override
            public void onError(Throwable t) {} // the call's cancel handler ends the receive

            @Override
            public void onCompleted() {} // no more demand; what was asked for still comes
        };
    }

    /** Core thread: starts a streamed receive of request {@code r} with the client's first demand. */
    private static void start(StreamedReceive receive, TaskHandles.Ref ref, MachMsgRequest r, long demand) {
        int option = r.getOption() & ~Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG;
        receive.start(ref, r.getThread(), option, (int) Math.min(r.getRcvSize() & 0xFFFFFFFFL, Integer.MAX_VALUE),
                r.getRcvName(), r.getTimeoutMillis() & 0xFFFFFFFFL, demand);
    }
}
