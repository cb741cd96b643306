package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import org.junit.jupiter.api.Test;

/**
 * A message the receiver's gRPC reply could not carry (review F3: a request under the limit whose
 * reply, with the receiver's longer names, is over it): MACH_RCV_TOO_LARGE, the message still
 * queued with MACH_RCV_LARGE and its rights untouched; without, destroyed as Mach destroys a
 * message larger than rcv_size - never taken off the queue and lost in a transport error.
 */
class IpcReplyTooLargeTest {
    /** A name of 31 bits: a 5-byte varint in each item of the receiver's reply. */
    private static final int LONG_NAME = 0x7FFFFFF0;

    @Test
    void aReplyOverTheGrpcLimitIsMachRcvTooLarge() throws Exception {
        try (ClusterFixture c = new ClusterFixture(1)) {
            TaskClient server = c.tasks.get(0);
            TaskClient client = c.clients.get(0).taskCreate("client");
            int svc = server.machPortAllocate(PortRight.RECEIVE);
            int toSvc = server.machPortExtractRight(svc, MsgType.MAKE_SEND, client).name();
            int x = server.machPortAllocate(PortRight.RECEIVE);
            server.machPortRename(x, LONG_NAME); // a long varint in the receiver's reply
            int cx = server.machPortExtractRight(LONG_NAME, MsgType.MAKE_SEND, client).name();
            // 360,000 rights: 14.4 MB queued (40 bytes each), within the client peer's 14 MiB share of
            // queued bytes (review rv58 HIGH-1); the reply, 5-byte names each, is over gRPC's 4 MiB
            MsgItem[] items = new MsgItem[360_000];
            java.util.Arrays.fill(items, new MsgItem.Port(cx, MsgType.COPY_SEND));
            ThreadClient ct = client.threadCreate();
            assertThat(ct.machMsg(MachMessage.to(toSvc, MsgType.COPY_SEND, 42).withBody(items), Mach.MACH_SEND_MSG, 0, 0, 0)
                    .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            ThreadClient st = server.threadCreate();

            MsgReturn large = st.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_LARGE, Integer.MAX_VALUE, svc, 0);
            assertThat(large.code()).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
            assertThat(server.machPortGetReceiveStatus(svc).getMsgcount()).as("still queued").isEqualTo(1);
            assertThat(server.machPortGetRefs(LONG_NAME, PortRight.SEND)).as("no right copied out").isZero();

            MsgReturn plain = st.machMsg(null, Mach.MACH_RCV_MSG, Integer.MAX_VALUE, svc, 0);
            assertThat(plain.code()).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
            assertThat(plain.message().id()).isEqualTo(42);
            assertThat(plain.message().body()).isEmpty();
            assertThat(server.machPortGetReceiveStatus(svc).getMsgcount()).isZero();
            assertThat(server.machPortGetRefs(LONG_NAME, PortRight.SEND)).as("its rights destroyed, not merged").isZero();
        }
    }
}
