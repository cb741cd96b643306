package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** mach_port_request_notification and the kernel's notifications: dead-name, no-senders, port-destroyed, send-once, port-deleted. */
class NotificationTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    private final int send = f.sendRightIn(B, port, A);
    /** A's port for notifications. */
    private final int notify = f.allocate(A);

    private IpcResult<Integer> request(long task, int name, int variant, int sync) {
        return f.ipc.machPortRequestNotification(task, name, variant, sync, notify, MsgType.MAKE_SEND_ONCE);
    }

    /** DEAD_NAME: when the port dies the name becomes a dead name with one more uref and the notification carries the name. */
    @Test
    void deadNameNotificationCarriesTheName() {
        assertThat(request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0).value()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(f.status(A, notify).sorights()).isEqualTo(1);
        f.ipc.machPortDestroy(B, port);
        MachMessage n = f.take(A, notify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(n.localType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(n.body()).containsExactly(new MsgItem.Port(send, MsgType.PORT_NAME));
        assertThat(f.type(A, send)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.refs(A, send, PortRight.DEAD_NAME)).isEqualTo(2);
    }

    /** DEAD_NAME on a name that is already dead: at once with sync != 0 (+1 uref); KERN_INVALID_ARGUMENT with sync 0. */
    @Test
    void deadNameRequestOnADeadName() {
        f.ipc.machPortDestroy(B, port);
        assertThat(request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0).code()).isEqualTo(KERN_INVALID_ARGUMENT);
        assertThat(request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 1).code()).isEqualTo(KERN_SUCCESS);
        assertThat(f.take(A, notify).id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(f.refs(A, send, PortRight.DEAD_NAME)).isEqualTo(2);
    }

    /** A new request replaces the old one and returns its send-once right; MACH_PORT_NULL cancels. */
    @Test
    void aRequestReturnsThePreviousOne() {
        request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0);
        int previous = request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0).value();
        assertThat(f.type(A, previous)).isEqualTo(PortRight.SEND_ONCE.typeBit());
        int cancelled = f.ipc.machPortRequestNotification(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0, Mach.MACH_PORT_NULL,
                null).value();
        assertThat(f.type(A, cancelled)).isEqualTo(PortRight.SEND_ONCE.typeBit());
        f.ipc.machPortDestroy(B, port);
        assertThat(f.poll(A, notify).code()).as("cancelled: nothing comes").isEqualTo(MACH_RCV_TIMED_OUT);
    }

    /** Freeing a name that has a dead-name request sends PORT_DELETED with the name. */
    @Test
    void freeingANameWithARequestSendsPortDeleted() {
        request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0);
        f.ipc.machPortDeallocate(A, send);
        MachMessage n = f.take(A, notify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DELETED);
        assertThat(n.body()).containsExactly(new MsgItem.Port(send, MsgType.PORT_NAME));
    }

    /** NO_SENDERS fires when the last send right goes, carrying the make-send count; at once if none exist and mscount >= sync. */
    @Test
    void noSendersCarriesTheMakeSendCount() {
        int bNotify = f.allocate(B);
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 0, bNotify,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(B, port).nsrequest()).isTrue();
        f.send(A, MachMessage.to(send, MsgType.MOVE_SEND, 1));
        assertThat(f.poll(B, bNotify).code()).as("the right in transit still counts").isEqualTo(MACH_RCV_TIMED_OUT);
        f.take(B, port);
        MachMessage n = f.take(B, bNotify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(n.intItem(0)).isEqualTo(1);
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 2, bNotify,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_SUCCESS);
        assertThat(f.poll(B, bNotify).code()).as("mscount 1 < sync 2").isEqualTo(MACH_RCV_TIMED_OUT);
        f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, bNotify, MsgType.MAKE_SEND_ONCE);
        assertThat(f.take(B, bNotify).intItem(0)).as("at once").isEqualTo(1);
    }

    /** PORT_DESTROYED: a dying receive right goes to the backup port instead, with its queued messages; requests need a receive right and sync 0. */
    @Test
    void portDestroyedSendsTheReceiveRightToTheBackup() {
        int backup = f.allocate(B);
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_PORT_DESTROYED, 1, backup,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortRequestNotification(A, send, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, notify,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_INVALID_RIGHT);
        f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, backup, MsgType.MAKE_SEND_ONCE);
        f.send(A, to(send, 5));
        f.ipc.machPortDestroy(B, port);
        assertThat(f.type(A, send)).as("the port lives on").isEqualTo(PortRight.SEND.typeBit());
        MachMessage n = f.take(B, backup);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DESTROYED);
        MsgItem.Port right = (MsgItem.Port) n.body().get(0);
        assertThat(right.type()).isEqualTo(MsgType.PORT_RECEIVE);
        assertThat(f.take(B, right.name()).id()).isEqualTo(5);
        f.ipc.machPortDestroy(B, right.name());
        assertThat(f.type(A, send)).as("one-shot: now it dies").isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /** A send-once right destroyed unused sends SEND_ONCE to its own port. */
    @Test
    void anUnusedSendOnceRightSaysSo() {
        int so = f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, A).value().name();
        assertThat(f.ipc.machPortDeallocate(A, so)).isEqualTo(KERN_SUCCESS);
        MachMessage n = f.take(B, port);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(n.localType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(n.body()).isEmpty();
        assertThat(f.status(B, port).sorights()).isZero();
    }

    /** A port's death destroys its queue: send-once rights in queued messages say SEND_ONCE; the no-senders request's right too. */
    @Test
    void aDyingPortDestroysItsQueueAndRequests() {
        int reply = f.allocate(A);
        f.send(A, to(send, 1).withReply(reply, MsgType.MAKE_SEND_ONCE));
        int bNotify = f.allocate(B);
        f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 0, bNotify, MsgType.MAKE_SEND_ONCE);
        f.ipc.machPortDestroy(B, port);
        assertThat(f.take(A, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(f.take(B, bNotify).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
    }

    /** A task's death ends its rights: its ports die (dead-name notifications elsewhere), its send rights count down (no-senders). */
    @Test
    void aTasksDeathEndsItsRights() {
        request(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0);
        int mine = f.allocate(B);
        int bNotify = f.allocate(A);
        int toMine = f.sendRightIn(B, mine, A);
        f.ipc.machPortRequestNotification(B, mine, Mach.MACH_NOTIFY_NO_SENDERS, 0, f.allocate(B), MsgType.MAKE_SEND_ONCE);
        f.ipc.spaceDestroy(B);
        assertThat(f.take(A, notify).id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(f.type(A, toMine)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.poll(A, bNotify).code()).isEqualTo(MACH_RCV_TIMED_OUT);
        assertThat(f.ipc.machPortAllocate(B, PortRight.RECEIVE.value).code()).isEqualTo(KERN_INVALID_TASK);
    }

    /** Request errors: unknown variants and bad notify dispositions KERN_INVALID_VALUE, a notify name without the right KERN_INVALID_CAPABILITY, a port set's name for DEAD_NAME KERN_INVALID_RIGHT. */
    @Test
    void requestErrors() {
        assertThat(request(A, send, 0x42, 0).code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortRequestNotification(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND)
                .code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortRequestNotification(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0, send,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_INVALID_CAPABILITY);
        assertThat(request(A, 0x777, Mach.MACH_NOTIFY_DEAD_NAME, 0).code()).isEqualTo(KERN_INVALID_NAME);
        assertThat(request(A, f.allocateSet(A), Mach.MACH_NOTIFY_DEAD_NAME, 0).code()).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(request(A, send, Mach.MACH_NOTIFY_NO_SENDERS, 0).code()).isEqualTo(KERN_INVALID_RIGHT);
    }

    /**
     * Review F4: destroying a name that holds the send and the receive right, with a port-destroyed
     * request, sends NO_SENDERS with the make-send count (the last send right went with the name),
     * as GNU Mach's ipc_right_destroy; the backup receives the port without senders or request.
     * Before, the request stayed armed on the backup's port and never fired. The same at the task's death.
     */
    @Test
    void destroyingASendAndReceiveNameWithABackupSendsNoSenders() {
        for (boolean taskDies : new boolean[] {false, true}) {
            long t = taskDies ? 7 : A;
            if (taskDies) {
                f.ipc.spaceCreate(t);
            }
            int p = f.allocate(t);
            assertThat(f.ipc.machPortInsertRight(t, p, t, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
            int n = f.allocate(B);
            int backup = f.allocate(B);
            assertThat(f.ipc.machPortInsertRight(t, 0x500, B, n, MsgType.MAKE_SEND_ONCE)).isEqualTo(KERN_SUCCESS);
            assertThat(f.ipc.machPortInsertRight(t, 0x501, B, backup, MsgType.MAKE_SEND_ONCE)).isEqualTo(KERN_SUCCESS);
            assertThat(f.ipc.machPortRequestNotification(t, p, Mach.MACH_NOTIFY_NO_SENDERS, 0, 0x500,
                    MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KERN_SUCCESS);
            assertThat(f.ipc.machPortRequestNotification(t, p, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, 0x501,
                    MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KERN_SUCCESS);
            if (taskDies) {
                f.ipc.spaceDestroy(t);
            } else {
                assertThat(f.ipc.machPortDestroy(t, p)).isEqualTo(KERN_SUCCESS);
            }
            MachMessage destroyed = f.take(B, backup);
            assertThat(destroyed.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DESTROYED);
            int r = ((MsgItem.Port) destroyed.body().get(0)).name();
            MachMessage ns = f.take(B, n);
            assertThat(ns.id()).as(taskDies ? "task died" : "destroyed").isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
            assertThat(ns.intItem(0)).as("the make-send count").isEqualTo(1);
            assertThat(f.status(B, r).srights()).isFalse();
            assertThat(f.status(B, r).nsrequest()).isFalse();
        }
    }

    /**
     * Review F5: the same destroy without a backup: the port dies, and the no-senders request
     * sends NO_SENDERS with the make-send count, not SEND_ONCE (its right destroyed unused).
     */
    @Test
    void destroyingASendAndReceiveNameSendsNoSendersNotSendOnce() {
        int p = f.allocate(A);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS); // 2 urefs, mscount 2
        assertThat(request(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 0).code()).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortDestroy(A, p)).isEqualTo(KERN_SUCCESS);
        MachMessage ns = f.take(A, notify);
        assertThat(ns.id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(ns.intItem(0)).as("the make-send count").isEqualTo(2);
        assertThat(f.poll(A, notify).code()).isEqualTo(MACH_RCV_TIMED_OUT);
    }
}
