package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A renewal of the IPC session (IpcLinks, "renew"; review F6) forgets what this kernel knew of the
 * others' ports, but not that a port died: a right to a port that died before the renewal,
 * arriving after it from a kernel that has not heard of the death yet, is a dead name here. The
 * renewal's own kernel deaths are not the ports' deaths: a right to a port that lives on arrives
 * live.
 */
class RenewKeepsPortDeathsTest {
    private static final int NAME = 0x500;

    @Test
    void aRightToAPortThatDiedBeforeARenewalArrivesDeadAndOneToALivePortArrivesLive() {
        IpcCluster c = new IpcCluster(3);
        int dying = c.allocate(1);
        c.give(1, dying, MsgType.MAKE_SEND, 2, NAME);
        c.give(1, dying, MsgType.MAKE_SEND, 3, NAME);
        int living = c.allocate(2);
        c.give(2, living, MsgType.MAKE_SEND, 3, NAME + 1);
        c.core(1).machPortDestroy(1, dying);
        c.deliver(1, 3); // kernel 3 hears of the death; kernel 2 not yet
        assertThat(c.type(3, NAME) & PortRight.DEAD_NAME.typeBit()).as("a dead name on kernel 3").isNotZero();

        c.renew(3);

        int inbox = c.allocate(3);
        assertThat(c.core(3).machPortInsertRemote(3, inbox, MsgType.MAKE_SEND, 2, 2, IpcCluster.INBOX + 3))
                .isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliver(3, 2);
        assertThat(c.send(2, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 7)
                .withBody(new MsgItem.Port(NAME, MsgType.COPY_SEND), new MsgItem.Port(living, MsgType.MAKE_SEND)))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(2, 3);

        MachMessage m = c.take(3, inbox);
        assertThat(m.body().get(0)).as("the port that died before the renewal")
                .isEqualTo(new MsgItem.Port(Mach.MACH_PORT_DEAD, MsgType.PORT_SEND));
        MsgItem.Port live = (MsgItem.Port) m.body().get(1);
        assertThat(live.name()).as("the port that lives on kernel 2").isNotEqualTo(Mach.MACH_PORT_DEAD);
        assertThat(c.type(3, live.name()) & PortRight.SEND.typeBit()).as("a send right on kernel 3").isNotZero();
    }
}
