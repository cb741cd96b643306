package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The mach_port_* routines on name spaces: rights, user references and their return codes. */
class PortCallsTest {
    private final IpcFixture f = new IpcFixture();

    /** mach_port_allocate makes a receive right, a port set or a dead name under a fresh name; other rights are KERN_INVALID_VALUE. */
    @Test
    void allocateMakesReceiveRightsSetsAndDeadNames() {
        int port = f.allocate(A);
        int set = f.allocateSet(A);
        int dead = f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).value();
        assertThat(port).isNotIn(Mach.MACH_PORT_NULL, Mach.MACH_PORT_DEAD, set, dead);
        assertThat(f.type(A, port)).isEqualTo(PortRight.RECEIVE.typeBit());
        assertThat(f.type(A, set)).isEqualTo(PortRight.PORT_SET.typeBit());
        assertThat(f.type(A, dead)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.refs(A, dead, PortRight.DEAD_NAME)).isEqualTo(1);
        ReceiveStatus s = f.status(A, port);
        assertThat(s).isEqualTo(new ReceiveStatus(Mach.MACH_PORT_NULL, 0, 0, Mach.MACH_PORT_QLIMIT_DEFAULT, 0, 0,
                false, false, false));
        assertThat(f.ipc.machPortAllocate(A, PortRight.SEND.value).code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortAllocate(A, 7).code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortAllocate(99, PortRight.RECEIVE.value).code()).isEqualTo(KERN_INVALID_TASK);
    }

    /** mach_port_allocate_name takes the caller's name: KERN_NAME_EXISTS if used, KERN_INVALID_VALUE for NULL and DEAD. */
    @Test
    void aFullNameSpaceIsKernNoSpaceAndFreeingANameMakesRoom() {
        int last = 0;
        for (int i = 0; i < PortCalls.MAX_NAMES; i++) {
            last = f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).orThrow("allocate");
        }
        assertThat(f.ipc.machPortAllocate(A, PortRight.RECEIVE.value).code()).isEqualTo(KERN_NO_SPACE);
        assertThat(f.ipc.machPortAllocateName(A, PortRight.PORT_SET.value, 0x7fff0000).code()).isEqualTo(KERN_NO_SPACE);
        assertThat(f.ipc.machPortDeallocate(A, last)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortAllocate(A, PortRight.RECEIVE.value).code()).isEqualTo(KERN_SUCCESS);
    }

    @Test
    void allocateNameUsesTheCallersName() {
        assertThat(f.ipc.machPortAllocateName(A, PortRight.RECEIVE.value, 0x4242).value()).isEqualTo(0x4242);
        assertThat(f.ipc.machPortAllocateName(A, PortRight.RECEIVE.value, 0x4242).code()).isEqualTo(KERN_NAME_EXISTS);
        assertThat(f.ipc.machPortAllocateName(A, PortRight.RECEIVE.value, Mach.MACH_PORT_NULL).code())
                .isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortAllocateName(A, PortRight.RECEIVE.value, Mach.MACH_PORT_DEAD).code())
                .isEqualTo(KERN_INVALID_VALUE);
    }

    /** Send and receive rights for one port share one name; send urefs count; deallocate takes one. */
    @Test
    void sendAndReceiveShareANameAndDeallocateTakesOneUref() {
        int p = f.allocate(A);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(A, p)).isEqualTo(PortRight.RECEIVE.typeBit() | PortRight.SEND.typeBit());
        assertThat(f.refs(A, p, PortRight.SEND)).isEqualTo(2);
        assertThat(f.status(A, p).mscount()).isEqualTo(2);
        assertThat(f.ipc.machPortDeallocate(A, p)).isEqualTo(KERN_SUCCESS);
        assertThat(f.refs(A, p, PortRight.SEND)).isEqualTo(1);
        assertThat(f.ipc.machPortDeallocate(A, p)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(A, p)).as("the receive right stays").isEqualTo(PortRight.RECEIVE.typeBit());
        assertThat(f.status(A, p).srights()).isFalse();
        assertThat(f.ipc.machPortDeallocate(A, p)).as("receive rights are not deallocated").isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortDeallocate(A, f.allocateSet(A))).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortDeallocate(A, 0x777)).isEqualTo(KERN_INVALID_NAME);
    }

    /** A send right's last uref going frees the name (when it holds nothing else). */
    @Test
    void theLastSendUrefFreesTheName() {
        int p = f.allocate(A);
        int s = f.sendRightIn(A, p, B);
        assertThat(f.ipc.machPortDeallocate(B, s)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortType(B, s).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /**
     * mod_refs: receive, send-once and sets take 0 or -1; dead names any delta within 0..UREFS_MAX,
     * send rights within 0..UREFS_MAX - 1 (GNU Mach keeps room for a dead-name notification's reference).
     */
    @Test
    void modRefsFollowsEachRightsRules() {
        int p = f.allocate(A);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.RECEIVE.value, 0)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.RECEIVE.value, 1)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, 1)).as("no send right").isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortModRefs(A, p, 9, 0)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortModRefs(A, 0x777, PortRight.SEND.value, 0)).isEqualTo(KERN_INVALID_NAME);
        f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, Mach.MACH_PORT_UREFS_MAX - 1))
                .as("to 0xFFFF: one more than a send right may have").isEqualTo(KERN_UREFS_OVERFLOW);
        assertThat(f.refs(A, p, PortRight.SEND)).isEqualTo(1);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, Mach.SEND_UREFS_MAX - 1)).isEqualTo(KERN_SUCCESS);
        assertThat(f.refs(A, p, PortRight.SEND)).isEqualTo(Mach.SEND_UREFS_MAX);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, 1)).isEqualTo(KERN_UREFS_OVERFLOW);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_UREFS_OVERFLOW);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, -Mach.SEND_UREFS_MAX - 1))
                .isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.SEND.value, -Mach.SEND_UREFS_MAX)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(A, p)).isEqualTo(PortRight.RECEIVE.typeBit());
        assertThat(f.ipc.machPortModRefs(A, p, PortRight.RECEIVE.value, -1)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortType(A, p).code()).as("the port is gone").isEqualTo(KERN_INVALID_NAME);
        int set = f.allocateSet(A);
        assertThat(f.ipc.machPortModRefs(A, set, PortRight.PORT_SET.value, -2)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortModRefs(A, set, PortRight.PORT_SET.value, -1)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortType(A, set).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /** When a port dies its send rights become dead names with the same urefs: RIGHT_SEND is then INVALID_RIGHT, DEAD_NAME works. */
    @Test
    void sendRightsBecomeDeadNamesWhenThePortDies() {
        int p = f.allocate(A);
        int s = f.sendRightIn(A, p, B);
        f.ipc.machPortModRefs(B, s, PortRight.SEND.value, 2);
        assertThat(f.ipc.machPortDestroy(A, p)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(B, s)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.refs(B, s, PortRight.DEAD_NAME)).isEqualTo(3);
        assertThat(f.ipc.machPortModRefs(B, s, PortRight.SEND.value, -1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortModRefs(B, s, PortRight.DEAD_NAME.value, -2)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortDeallocate(B, s)).as("dead names deallocate").isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortType(B, s).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /** get_refs: urefs of send and dead names, 1 for receive/send-once/set, 0 when absent; bad right KERN_INVALID_VALUE. */
    @Test
    void getRefsCountsEachRight() {
        int p = f.allocate(A);
        assertThat(f.refs(A, p, PortRight.RECEIVE)).isEqualTo(1);
        assertThat(f.refs(A, p, PortRight.SEND)).isZero();
        assertThat(f.ipc.machPortGetRefs(A, p, 5).code()).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortGetRefs(A, 0x777, 0).code()).isEqualTo(KERN_INVALID_NAME);
        int so = f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, A).value().name();
        assertThat(so).as("each send-once right has its own name").isNotEqualTo(p);
        assertThat(f.refs(A, so, PortRight.SEND_ONCE)).isEqualTo(1);
        assertThat(f.status(A, p).sorights()).isEqualTo(1);
    }

    /** insert_right: NAME_EXISTS for another right's name, RIGHT_EXISTS if the port has another name, INVALID_CAPABILITY for NULL/DEAD. */
    @Test
    void insertRightChecksNamesAndRights() {
        int p = f.allocate(A);
        int q = f.allocate(A);
        assertThat(f.ipc.machPortInsertRight(A, q, A, p, MsgType.MAKE_SEND)).as("the port's own name is checked first")
                .isEqualTo(KERN_RIGHT_EXISTS);
        int other = f.allocate(B);
        assertThat(f.ipc.machPortInsertRight(B, other, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_NAME_EXISTS);
        assertThat(f.ipc.machPortInsertRight(A, 0x5000, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_RIGHT_EXISTS);
        assertThat(f.ipc.machPortInsertRight(A, 0x5000, A, Mach.MACH_PORT_DEAD, MsgType.COPY_SEND))
                .isEqualTo(KERN_INVALID_CAPABILITY);
        assertThat(f.ipc.machPortInsertRight(A, 0x5000, A, Mach.MACH_PORT_NULL, MsgType.COPY_SEND))
                .isEqualTo(KERN_INVALID_CAPABILITY);
        assertThat(f.ipc.machPortInsertRight(A, Mach.MACH_PORT_NULL, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortInsertRight(A, 0x5000, A, p, MsgType.COPY_SEND)).as("A has no send right")
                .isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortInsertRight(B, 0x5000, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(B, 0x5000)).isEqualTo(PortRight.SEND.typeBit());
        assertThat(f.ipc.machPortInsertRight(B, 0x5001, A, p, MsgType.MAKE_SEND_ONCE)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortInsertRight(B, 0x5001, A, p, MsgType.MAKE_SEND_ONCE)).isEqualTo(KERN_NAME_EXISTS);
        assertThat(f.status(A, p).sorights()).as("the failed call made nothing").isEqualTo(1);
        assertThat(f.ipc.machPortInsertRight(B, 0x6000, A, p, MsgType.MOVE_RECEIVE)).isEqualTo(KERN_RIGHT_EXISTS);
        assertThat(f.ipc.machPortInsertRight(B, 0x5000, A, p, MsgType.MOVE_RECEIVE)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(B, 0x5000)).isEqualTo(PortRight.RECEIVE.typeBit() | PortRight.SEND.typeBit());
        assertThat(f.ipc.machPortType(A, p).code()).as("moved away").isEqualTo(KERN_INVALID_NAME);
    }

    /** extract_right takes a right out of a task's space into the caller's; its type says what the caller got. */
    @Test
    void extractRightMovesARightBetweenSpaces() {
        int p = f.allocate(A);
        MsgItem.Port got = f.ipc.machPortExtractRight(A, p, MsgType.MOVE_RECEIVE, B).value();
        assertThat(got.type()).isEqualTo(MsgType.PORT_RECEIVE);
        assertThat(f.type(B, got.name())).isEqualTo(PortRight.RECEIVE.typeBit());
        assertThat(f.ipc.machPortExtractRight(A, p, MsgType.MOVE_RECEIVE, B).code()).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortExtractRight(B, got.name(), MsgType.COPY_SEND, A).code()).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortExtractRight(B, got.name(), MsgType.PORT_NAME, A).code()).isEqualTo(KERN_INVALID_VALUE);
    }

    /** move_member puts a receive right in a set (one set at a time) and takes it out; errors as Mach names them. */
    @Test
    void moveMemberJoinsAndLeavesSets() {
        int p = f.allocate(A);
        int s1 = f.allocateSet(A);
        int s2 = f.allocateSet(A);
        assertThat(f.ipc.machPortMoveMember(A, p, Mach.MACH_PORT_NULL)).isEqualTo(KERN_NOT_IN_SET);
        assertThat(f.ipc.machPortMoveMember(A, p, s1)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).pset()).isEqualTo(s1);
        assertThat(f.ipc.machPortMoveMember(A, p, s2)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).pset()).as("atomically from one set to the other").isEqualTo(s2);
        assertThat(f.ipc.machPortMoveMember(A, p, Mach.MACH_PORT_NULL)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).pset()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(f.ipc.machPortMoveMember(A, s1, s2)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortMoveMember(A, p, p)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortMoveMember(A, 0x777, s1)).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortMoveMember(A, p, 0x777)).isEqualTo(KERN_INVALID_NAME);
    }

    /** The queue limit is 0..16 (default 5), set by set_qlimit or set_attributes(LIMITS_INFO), read by get_attributes. */
    @Test
    void queueLimitsAndAttributes() {
        int p = f.allocate(A);
        assertThat(f.ipc.machPortGetAttributes(A, p, Mach.MACH_PORT_LIMITS_INFO).value()).containsExactly(5);
        assertThat(f.ipc.machPortSetQlimit(A, p, Mach.MACH_PORT_QLIMIT_MAX)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortSetQlimit(A, p, Mach.MACH_PORT_QLIMIT_MAX + 1)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortSetQlimit(A, p, -1)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(f.ipc.machPortSetAttributes(A, p, Mach.MACH_PORT_LIMITS_INFO, new int[] {2})).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).qlimit()).isEqualTo(2);
        assertThat(f.ipc.machPortGetAttributes(A, p, Mach.MACH_PORT_RECEIVE_STATUS).value()).hasSize(9);
        assertThat(f.ipc.machPortGetAttributes(A, p, 42).code()).isEqualTo(KERN_INVALID_ARGUMENT);
        assertThat(f.ipc.machPortSetAttributes(A, p, Mach.MACH_PORT_RECEIVE_STATUS, new int[9]))
                .isEqualTo(KERN_INVALID_ARGUMENT);
        int s = f.sendRightIn(A, p, B);
        assertThat(f.ipc.machPortSetQlimit(B, s, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortGetReceiveStatus(B, 0x777).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /** mach_port_destroy ends every right under a name: a set's members leave it. */
    @Test
    void destroyEndsEveryRightUnderTheName() {
        int p = f.allocate(A);
        int set = f.allocateSet(A);
        f.ipc.machPortMoveMember(A, p, set);
        assertThat(f.ipc.machPortDestroy(A, set)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).pset()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(f.ipc.machPortDestroy(A, 0x777)).isEqualTo(KERN_INVALID_NAME);
    }
}
