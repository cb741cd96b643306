package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcResult;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Mach IPC through the kernel core: tasks and threads checked, blocked mach_msg like other blocked calls, virtual time. */
class KernelCoreIpcTest {
    private static final int RCV = Mach.MACH_RCV_MSG;
    private final CoreFixture k = new CoreFixture(true);

    private <T> T port(long task, Function<IpcCore, IpcResult<T>> routine) {
        Answer<IpcResult<T>> a = new Answer<>();
        k.core.ipc().port(task, routine, a);
        return a.value().orThrow("routine");
    }

    private Answer<MsgReturn> msg(MachThread t, MachMessage m, int option, int rcvName, long timeoutMs) {
        Answer<MsgReturn> a = new Answer<>();
        k.core.ipc().machMsg(t.task.id, t.tid, m, option, 1024, rcvName, timeoutMs, a);
        return a;
    }

    private MachTask otherTask() {
        Answer<MachTask> t = new Answer<>();
        k.core.taskCreate("other", t);
        return t.value();
    }

    /** Each task created gets a name space; an unknown task is ESRCH, as for every request. */
    @Test
    void tasksHaveNameSpacesAndUnknownTasksAreEsrch() {
        int p = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        assertThat(p).isNotZero();
        Answer<Integer> none = new Answer<>();
        k.core.ipc().port(999, ipc -> 1, none);
        assertThat(none.error().errno()).isEqualTo(Errno.ESRCH);
    }

    /** A thread blocked in mach_msg makes no other call (EBUSY); its receive times out in the kernel's virtual time. */
    @Test
    void aBlockedReceiveIsABlockedCallAndTimesOutInVirtualTime() {
        MachThread t = k.thread();
        int p = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        Answer<MsgReturn> r = msg(t, null, RCV | Mach.MACH_RCV_TIMEOUT, p, 20);
        assertThat(k.compute(t, 1).error().errno()).isEqualTo(Errno.EBUSY);
        k.env.advance(19_999_999);
        assertThat(r.answered()).isFalse();
        k.env.advance(1);
        assertThat(r.value().code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(msg(t, null, RCV | Mach.MACH_RCV_TIMEOUT, p, -1).error().errno()).isEqualTo(Errno.EINVAL);
    }

    /** A thread terminated while blocked in mach_msg is answered ESRCH; a later message waits for another receiver. */
    @Test
    void aTerminatedReceiverIsEsrchAndTheMessageStaysQueued() {
        MachThread t = k.thread();
        MachThread sender = k.thread();
        int p = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        Answer<MsgReturn> r = msg(t, null, RCV, p, 0);
        Answer<Void> end = new Answer<>();
        k.core.threadTerminate(k.task.id, t.tid, end);
        assertThat(r.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(msg(sender, MachMessage.to(p, MsgType.MAKE_SEND, 1), Mach.MACH_SEND_MSG, 0, 0).value().code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(port(k.task.id, ipc -> ipc.machPortGetReceiveStatus(k.task.id, p)).msgcount()).isEqualTo(1);
    }

    /** task_terminate ends the task's rights: a send right elsewhere becomes a dead name. */
    @Test
    void taskTerminateKillsItsPorts() {
        MachTask other = otherTask();
        int p = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        int s = port(k.task.id, ipc -> ipc.machPortExtractRight(k.task.id, p, MsgType.MAKE_SEND, other.id)).name();
        Answer<Void> end = new Answer<>();
        k.core.taskTerminate(k.task.id, "test", end);
        int type = port(other.id, ipc -> ipc.machPortType(other.id, s));
        assertThat(type).isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /** A caller that gives up: a blocked receive answers MACH_RCV_INTERRUPTED; a blocked send MACH_SEND_INTERRUPTED with its rights back. */
    @Test
    void abortInterruptsBlockedCalls() {
        MachThread t = k.thread();
        int p = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        Answer<MsgReturn> r = msg(t, null, RCV, p, 0);
        k.core.ipc().abort(k.task.id, t.tid, r);
        assertThat(r.value().code()).isEqualTo(KernReturn.MACH_RCV_INTERRUPTED);
        port(k.task.id, ipc -> IpcResult.ok(ipc.machPortSetQlimit(k.task.id, p, 0)));
        int mine = port(k.task.id, ipc -> ipc.machPortAllocate(k.task.id, PortRight.RECEIVE.value));
        Answer<MsgReturn> s = msg(t, MachMessage.to(p, MsgType.MAKE_SEND, 1).withReply(mine, MsgType.MAKE_SEND),
                Mach.MACH_SEND_MSG, 0, 0);
        assertThat(s.answered()).isFalse();
        k.core.ipc().abort(k.task.id, t.tid, s);
        assertThat(s.value().code()).isEqualTo(KernReturn.MACH_SEND_INTERRUPTED);
        int refs = port(k.task.id, ipc -> ipc.machPortGetRefs(k.task.id, mine, PortRight.SEND.value));
        assertThat(refs).isEqualTo(1);
        assertThat(k.compute(t, 1).answered()).as("the thread is free again").isFalse();
    }
}
