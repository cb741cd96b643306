package io.machxp.client;

import static io.machxp.client.RawKernel.fails;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.proto.task.*;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every call of the task interface (MachTask and MachIpc) that names a task answers a handle
 * that names none with ESRCH (NOT_FOUND), as task.proto's Errno says (review kreview LOW-1: its
 * comment said EINVAL), and a handle whose task was terminated says so (review kreview LOW-2:
 * it answered "no task ...; create one with task_create"), on MachIpc's calls as on MachTask's.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EndedTaskHandleOverGrpcTest {
    private static final long PAGE = 4096;
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * PAGE));
    private final Kernel kernel = cluster.kernel(0);
    private final RawKernel raw = new RawKernel(cluster.kernelTargets().get(0));

    EndedTaskHandleOverGrpcTest() throws Exception {}

    @AfterEach
    void close() {
        raw.close();
        cluster.close();
    }

    /** Every call that names a task, naming {@code h} (thread 1, address 0x1000_0000). */
    private Map<String, ThrowingCallable> everyCall(long h) {
        long a = 0x1000_0000L;
        Map<String, ThrowingCallable> calls = new LinkedHashMap<>();
        calls.put("ThreadCreate", () -> raw.call().threadCreate(ThreadCreateRequest.newBuilder().setTask(h).build()));
        calls.put("VmMap", () -> raw.call().vmMap(VmMapRequest.newBuilder().setTask(h).setObject("obj").build()));
        calls.put("VmLockFutex", () -> raw.call().vmLockFutex(RawKernel.lock(h, 1, a)));
        calls.put("VmTrylockFutex", () -> raw.call().vmTrylockFutex(VmTrylockFutexRequest.newBuilder().setTask(h)
                .setThread(1).setAddress(a).build()));
        calls.put("VmUnlockFutex", () -> raw.call().vmUnlockFutex(RawKernel.unlock(h, 1, a)));
        calls.put("VmRead", () -> raw.call().vmRead(VmReadRequest.newBuilder().setTask(h).setAddress(a).setLength(4)
                .build()));
        calls.put("VmWrite", () -> raw.call().vmWrite(VmWriteRequest.newBuilder().setTask(h).setAddress(a).build()));
        calls.put("VmCompareAndSwap", () -> raw.call().vmCompareAndSwap(VmCompareAndSwapRequest.newBuilder()
                .setTask(h).setAddress(a).build()));
        calls.put("VmFetchAdd", () -> raw.call().vmFetchAdd(VmFetchAddRequest.newBuilder().setTask(h).setAddress(a)
                .build()));
        calls.put("VmMsync", () -> raw.call().vmMsync(VmMsyncRequest.newBuilder().setTask(h).setAddress(a)
                .setLength(PAGE).build()));
        calls.put("VmFutexConsistent", () -> raw.call().vmFutexConsistent(VmFutexConsistentRequest.newBuilder()
                .setTask(h).setThread(1).setAddress(a).build()));
        calls.put("ThreadCompute", () -> raw.call().threadCompute(ThreadComputeRequest.newBuilder().setTask(h)
                .setThread(1).build()));
        calls.put("ThreadSleep", () -> raw.call().threadSleep(ThreadSleepRequest.newBuilder().setTask(h).setThread(1)
                .build()));
        calls.put("ThreadSetPriority", () -> raw.call().threadSetPriority(ThreadSetPriorityRequest.newBuilder()
                .setTask(h).setThread(1).setPriority(5).build()));
        calls.put("ThreadTerminate", () -> raw.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(h)
                .setThread(1).build()));
        calls.put("TaskTerminate", () -> raw.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(h)
                .build()));
        calls.put("TaskWatch", () -> raw.call().taskWatch(TaskWatchRequest.newBuilder().setTask(h).build()).hasNext());
        calls.put("TaskShmAttach", () -> raw.call().taskShmAttach(TaskShmAttachRequest.newBuilder().setTask(h)
                .build()));
        MachPortNameRequest name = MachPortNameRequest.newBuilder().setTask(h).setName(1).build();
        MachPortModRefsRequest refs = MachPortModRefsRequest.newBuilder().setTask(h).setName(1).setRight(1).build();
        MachPortSetValueRequest value = MachPortSetValueRequest.newBuilder().setTask(h).setName(1).setValue(2).build();
        calls.put("MachPortAllocate", () -> raw.ipc().machPortAllocate(MachPortAllocateRequest.newBuilder()
                .setTask(h).setRight(1).build()));
        calls.put("MachPortDeallocate", () -> raw.ipc().machPortDeallocate(name));
        calls.put("MachPortDestroy", () -> raw.ipc().machPortDestroy(name));
        calls.put("MachPortModRefs", () -> raw.ipc().machPortModRefs(refs));
        calls.put("MachPortGetRefs", () -> raw.ipc().machPortGetRefs(refs));
        calls.put("MachPortType", () -> raw.ipc().machPortType(name));
        calls.put("MachPortInsertRight", () -> raw.ipc().machPortInsertRight(MachPortInsertRightRequest.newBuilder()
                .setTask(h).setName(1).setFromTask(h).setFromName(1).setDisposition(20).build()));
        calls.put("MachPortExtractRight", () -> raw.ipc().machPortExtractRight(MachPortExtractRightRequest
                .newBuilder().setTask(h).setName(1).setDisposition(20).setToTask(h).build()));
        calls.put("MachPortMoveMember", () -> raw.ipc().machPortMoveMember(MachPortMoveMemberRequest.newBuilder()
                .setTask(h).setMember(1).build()));
        calls.put("MachPortSetQlimit", () -> raw.ipc().machPortSetQlimit(MachPortSetQlimitRequest.newBuilder()
                .setTask(h).setName(1).setQlimit(1).build()));
        calls.put("MachPortGetReceiveStatus", () -> raw.ipc().machPortGetReceiveStatus(name));
        calls.put("MachPortRequestNotification", () -> raw.ipc().machPortRequestNotification(
                MachPortRequestNotificationRequest.newBuilder().setTask(h).setName(1).setVariant(0106).build()));
        calls.put("MachPortSetSeqno", () -> raw.ipc().machPortSetSeqno(value));
        calls.put("MachPortSetMscount", () -> raw.ipc().machPortSetMscount(value));
        calls.put("MachPortRename", () -> raw.ipc().machPortRename(value));
        calls.put("MachPortNames", () -> raw.ipc().machPortNames(name));
        calls.put("MachPortGetSetStatus", () -> raw.ipc().machPortGetSetStatus(name));
        MachMsgRequest receive = MachMsgRequest.newBuilder().setTask(h).setThread(1).setOption(2).setRcvName(1)
                .setRcvSize(1024).build();
        calls.put("MachMsg", () -> raw.ipc().machMsg(receive));
        calls.put("MachPortInsertRemote", () -> raw.ipc().machPortInsertRemote(MachPortInsertRemoteRequest
                .newBuilder().setTask(h).setName(1).setDisposition(20).setKernel(2).setToTask(h).setToName(1).build()));
        calls.put("MachMsgReceive", () -> raw.ipc().machMsgReceive(receive).hasNext());
        calls.put("MachMsgReceiveOnDemand", () -> onDemand(receive));
        return calls;
    }

    /** A MachMsgReceiveOnDemand asking for one message: its first reply, or its error thrown. */
    private void onDemand(MachMsgRequest start) throws Exception {
        CompletableFuture<Object> first = new CompletableFuture<>();
        StreamObserver<MachMsgDemand> demand = MachIpcGrpc.newStub(raw.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .machMsgReceiveOnDemand(new StreamObserver<>() {
                    @Override
                    public void onNext(MachMsgReply r) {
                        first.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        first.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        first.complete(null);
                    }
                });
        demand.onNext(MachMsgDemand.newBuilder().setStart(start).setRequest(1).build());
        try {
            first.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private void everyCallSays(long h, String... sentence) {
        everyCall(h).forEach((call, c) -> {
            StatusRuntimeException e = fails(c, Status.Code.NOT_FOUND, "ESRCH");
            assertThat(e.getStatus().getDescription()).as(call).contains(sentence);
        });
    }

    @Test
    void aHandleNeverGivenOutIsEsrchOnEveryCall() {
        everyCallSays(12345, "has no task 12345", "create one with task_create");
    }

    @Test
    void aHandleWhoseTaskWasTerminatedSaysSoOnEveryCall() {
        long h = raw.task("ended");
        raw.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(h).build());
        everyCallSays(h, "no longer has task " + Long.toUnsignedString(h), "it was terminated (task_terminate)");
    }

    @Test
    void aHandleWhoseTaskWatchEndedSaysSo() throws Exception {
        long h = raw.task("watched");
        io.grpc.Context.CancellableContext watching = io.grpc.Context.current().withCancellation();
        Iterator<TaskWatchEvent> events = watching.call(() -> raw.stub.taskWatch(TaskWatchRequest.newBuilder()
                .setTask(h).build()));
        assertThat(events.next().getTask()).as("the watch is in place").isEqualTo(h);
        watching.cancel(null);
        while (kernel.taskHandles().ref(h) != null) { // the kernel hears the cancel on its transport thread
            Thread.onSpinWait();
        }
        StatusRuntimeException e = fails(() -> raw.call().vmMap(VmMapRequest.newBuilder().setTask(h).setObject("obj")
                .build()), Status.Code.NOT_FOUND, "ESRCH");
        assertThat(e.getStatus().getDescription()).contains("it was terminated when its TaskWatch ended");
    }
}
