package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * mach_port_names and mach_port_get_set_status (GNU Mach manual, "Port Names" and "Port Sets";
 * ipc/mach_port.c): a snapshot of a space's names with their mach_port_type bits, and the names of
 * a set's members.
 */
class NamesAndSetStatusTest {
    private final IpcFixture f = new IpcFixture();

    /** Every name with its type, as mach_port_type gives it: a dead port's send right shows as a dead name, a request as DNREQUEST. */
    @Test
    void namesListsEveryNameWithItsType() {
        int port = f.allocate(B);
        int send = f.sendRightIn(B, port, A);
        int own = f.allocate(A);
        int set = f.allocateSet(A);
        int dead = f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).orThrow("mach_port_allocate");
        int once = f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, A).orThrow("extract").name();
        f.ipc.machPortRequestNotification(A, once, Mach.MACH_NOTIFY_DEAD_NAME, 0, own, MsgType.MAKE_SEND_ONCE)
                .orThrow("mach_port_request_notification");
        PortNames names = f.ipc.machPortNames(A).orThrow("mach_port_names");
        assertThat(names.names()).containsExactly(send, own, set, dead, once);
        assertThat(names.types()).containsExactly(PortRight.SEND.typeBit(), PortRight.RECEIVE.typeBit(),
                PortRight.PORT_SET.typeBit(), PortRight.DEAD_NAME.typeBit(),
                PortRight.SEND_ONCE.typeBit() | Mach.MACH_PORT_TYPE_DNREQUEST);
        f.ipc.machPortDestroy(B, port);
        PortNames after = f.ipc.machPortNames(A).orThrow("mach_port_names");
        assertThat(after.names()).containsExactly(send, own, set, dead, once);
        assertThat(after.types()[0]).as("the send right of a dead port").isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(after.types()[4]).as("its request fired").isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.ipc.machPortNames(99).code()).isEqualTo(KERN_INVALID_TASK);
    }

    /** A set's members by their names; a member that leaves is gone from it; only a set's name will do. */
    @Test
    void setStatusNamesTheMembers() {
        int set = f.allocateSet(A);
        int p1 = f.allocate(A);
        int p2 = f.allocate(A);
        assertThat(f.ipc.machPortGetSetStatus(A, set).orThrow("mach_port_get_set_status")).isEmpty();
        f.ipc.machPortMoveMember(A, p2, set);
        f.ipc.machPortMoveMember(A, p1, set);
        assertThat(f.ipc.machPortGetSetStatus(A, set).orThrow("mach_port_get_set_status")).containsExactly(p1, p2);
        f.ipc.machPortMoveMember(A, p2, Mach.MACH_PORT_NULL);
        f.ipc.machPortDestroy(A, p1);
        assertThat(f.ipc.machPortGetSetStatus(A, set).orThrow("mach_port_get_set_status")).isEmpty();
        assertThat(f.ipc.machPortGetSetStatus(A, p2).code()).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortGetSetStatus(A, 0x777).code()).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortGetSetStatus(99, set).code()).isEqualTo(KERN_INVALID_TASK);
    }
}
