package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * mach_port_rename (GNU Mach manual, "Port Names"; ipc/ipc_object.c, ipc_object_rename, and
 * ipc_right_rename): the rights under a name move to another, unused name with everything that
 * hangs on the name - a receive right's messages then name it in msgh_local_port, a set is named
 * by it in a member's status, a dead-name request carries it.
 */
class RenameTest {
    private static final int NEW = 0x5000;
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    private final int send = f.sendRightIn(B, port, A);

    /** A receive right renamed while a thread waits on it: the message names the new name; its send right and status follow. */
    @Test
    void aReceiveRightsMessagesNameItsNewName() {
        IpcFixture.Call waiting = f.receive(B, port);
        assertThat(f.ipc.machPortRename(B, port, NEW)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortType(B, port).code()).isEqualTo(KERN_INVALID_NAME);
        f.send(A, to(send, 1).withReply(send, MsgType.COPY_SEND));
        assertThat(waiting.message().localPort()).isEqualTo(NEW);
        assertThat(waiting.message().remotePort()).as("the send right joins the receive right's new name").isEqualTo(NEW);
        assertThat(f.type(B, NEW)).isEqualTo(PortRight.RECEIVE.typeBit() | PortRight.SEND.typeBit());
        assertThat(f.status(B, NEW).seqno()).isEqualTo(1);
    }

    /** A send right with a dead-name request: the request moves with it, and the notification carries the new name. */
    @Test
    void aDeadNameRequestFollowsTheName() {
        int notify = f.allocate(A);
        f.ipc.machPortRequestNotification(A, send, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND_ONCE)
                .orThrow("mach_port_request_notification");
        assertThat(f.ipc.machPortRename(A, send, NEW)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(A, NEW)).isEqualTo(PortRight.SEND.typeBit() | Mach.MACH_PORT_TYPE_DNREQUEST);
        assertThat(f.sendRightIn(B, port, A)).as("a send right received joins the new name").isEqualTo(NEW);
        f.ipc.machPortDestroy(B, port);
        MachMessage n = f.take(A, notify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(n.body()).containsExactly(new MsgItem.Port(NEW, MsgType.PORT_NAME));
        assertThat(f.refs(A, NEW, PortRight.DEAD_NAME)).isEqualTo(3);
    }

    /** A port set renamed: its members' status names it, and it is received from under the new name. */
    @Test
    void aSetIsNamedByItsNewName() {
        int set = f.allocateSet(B);
        f.ipc.machPortMoveMember(B, port, set);
        assertThat(f.ipc.machPortRename(B, set, NEW)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(B, port).pset()).isEqualTo(NEW);
        f.send(A, to(send, 4));
        assertThat(f.take(B, NEW).id()).isEqualTo(4);
    }

    /** Errors, GNU's order: a new name NULL or DEAD KERN_INVALID_VALUE; in use KERN_NAME_EXISTS; an old name that is nothing (or the same) KERN_INVALID_NAME. */
    @Test
    void errors() {
        int other = f.allocate(B);
        assertThat(f.ipc.machPortRename(B, port, Mach.MACH_PORT_NULL)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortRename(B, port, Mach.MACH_PORT_DEAD)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortRename(B, port, other)).isEqualTo(KERN_NAME_EXISTS);
        assertThat(f.ipc.machPortRename(B, 0x777, other)).as("the new name is checked first").isEqualTo(KERN_NAME_EXISTS);
        assertThat(f.ipc.machPortRename(B, 0x777, NEW)).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortRename(99, port, NEW)).isEqualTo(KERN_INVALID_TASK);
        assertThat(f.type(B, port)).isEqualTo(PortRight.RECEIVE.typeBit());
        assertThat(f.ipc.machPortType(B, NEW).code()).isEqualTo(KERN_INVALID_NAME);
    }
}
