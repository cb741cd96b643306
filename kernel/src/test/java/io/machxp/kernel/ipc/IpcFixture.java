package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * An IPC core driven by hand in virtual time, with two tasks (A = 1, B = 2). Helpers name Mach's
 * calls; {@link #msg} runs mach_msg and returns a holder of its one answer.
 */
final class IpcFixture {
    static final long A = 1;
    static final long B = 2;
    static final int TA = 101;
    static final int TB = 201;
    static final int BIG = 1 << 20;

    private record Timer(long due, long order, Runnable action, boolean[] cancelled) {}

    private final PriorityQueue<Timer> timers = new PriorityQueue<>(
            (x, y) -> x.due != y.due ? Long.compare(x.due, y.due) : Long.compare(x.order, y.order));
    private long now;
    private long order;
    final IpcCore ipc = new IpcCore((delay, action) -> {
        boolean[] cancelled = {false};
        timers.add(new Timer(now + delay, order++, action, cancelled));
        return () -> cancelled[0] = true;
    });

    IpcFixture() {
        ipc.spaceCreate(A);
        ipc.spaceCreate(B);
    }

    /** Moves virtual time forward by {@code ms}, running the timers that fall due. */
    void advanceMs(long ms) {
        long until = now + ms * 1_000_000;
        while (!timers.isEmpty() && timers.peek().due <= until) {
            Timer t = timers.poll();
            now = t.due;
            if (!t.cancelled[0]) {
                t.action.run();
            }
        }
        now = until;
    }

    /** The one answer of a mach_msg call, once it comes. */
    static final class Call {
        private final List<MsgReturn> answers = new ArrayList<>();

        void accept(MsgReturn r) {
            answers.add(r);
            assertThat(answers).as("mach_msg answers once").hasSize(1);
        }

        boolean done() {
            return !answers.isEmpty();
        }

        MsgReturn result() {
            assertThat(answers).as("mach_msg answered").hasSize(1);
            return answers.get(0);
        }

        KernReturn code() {
            return result().code();
        }

        MachMessage message() {
            assertThat(code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            return result().message();
        }
    }

    Call msg(long task, int tid, MachMessage m, int option, int rcvSize, int rcvName, long timeoutMs) {
        Call c = new Call();
        ipc.machMsg(task, tid, m, option, rcvSize, rcvName, timeoutMs, c::accept);
        return c;
    }

    Call send(long task, MachMessage m) {
        return msg(task, tid(task), m, Mach.MACH_SEND_MSG, 0, 0, 0);
    }

    Call sendTimeout(long task, MachMessage m, long timeoutMs) {
        return msg(task, tid(task), m, Mach.MACH_SEND_MSG | Mach.MACH_SEND_TIMEOUT, 0, 0, timeoutMs);
    }

    Call receive(long task, int name) {
        return msg(task, tid(task), null, Mach.MACH_RCV_MSG, BIG, name, 0);
    }

    /** A receive that does not wait (MACH_RCV_TIMEOUT 0). */
    Call poll(long task, int name) {
        return msg(task, tid(task) + 50, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, BIG, name, 0);
    }

    /** The message a poll finds, which must be there. */
    MachMessage take(long task, int name) {
        return poll(task, name).message();
    }

    private static int tid(long task) {
        return task == A ? TA : TB;
    }

    int allocate(long task) {
        return ipc.machPortAllocate(task, PortRight.RECEIVE.value).orThrow("mach_port_allocate");
    }

    int allocateSet(long task) {
        return ipc.machPortAllocate(task, PortRight.PORT_SET.value).orThrow("mach_port_allocate");
    }

    /** A port whose receive right {@code owner} holds, and a send right to it in {@code other}: its name there. */
    int sendRightIn(long owner, int port, long other) {
        return ipc.machPortExtractRight(owner, port, MsgType.MAKE_SEND, other).orThrow("extract").name();
    }

    int refs(long task, int name, PortRight right) {
        return ipc.machPortGetRefs(task, name, right.value).orThrow("mach_port_get_refs");
    }

    int type(long task, int name) {
        return ipc.machPortType(task, name).orThrow("mach_port_type");
    }

    ReceiveStatus status(long task, int name) {
        return ipc.machPortGetReceiveStatus(task, name).orThrow("mach_port_get_receive_status");
    }

    /** A simple message to {@code dest} by COPY_SEND. */
    static MachMessage to(int dest, int id) {
        return MachMessage.to(dest, MsgType.COPY_SEND, id);
    }
}
