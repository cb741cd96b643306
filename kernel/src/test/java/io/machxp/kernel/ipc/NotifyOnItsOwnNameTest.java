package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review linkpool INFO: mach_port_request_notification on a send-once name with the notify right
 * moved (MOVE_SEND_ONCE) out of that same name. GNU Mach copies the notify right in with the
 * request message, freeing the name before the call looks it up: KERN_INVALID_NAME. Before, the
 * DEAD_NAME request was registered under the freed name (its right held where nobody could
 * cancel it), and the receive-right variants answered KERN_INVALID_RIGHT.
 */
class NotifyOnItsOwnNameTest {
    private final IpcFixture f = new IpcFixture();

    /** A send-once right in A to a port of B's: its name. */
    private int sendOnceInA() {
        int port = f.allocate(B);
        return f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, A).orThrow("extract").name();
    }

    @Test
    void aDeadNameRequestWhoseNotifyIsMovedFromTheSameNameIsInvalidNameAndChangesNothing() {
        int s = sendOnceInA();
        Port port = f.ipc.space(A).lookup(s).port();
        IpcResult<Integer> r = f.ipc.machPortRequestNotification(A, s, Mach.MACH_NOTIFY_DEAD_NAME, 0, s,
                MsgType.MOVE_SEND_ONCE);
        assertThat(r.code()).isEqualTo(KernReturn.KERN_INVALID_NAME);
        assertThat(f.ipc.space(A).lookup(s).has(PortRight.SEND_ONCE)).as("the right stays under its name").isTrue();
        assertThat(port.deadNameRequests).as("no request registered").isEmpty();
    }

    @Test
    void aNoSendersRequestWhoseNotifyIsMovedFromTheSameNameIsInvalidName() {
        int s = sendOnceInA();
        assertThat(f.ipc.machPortRequestNotification(A, s, Mach.MACH_NOTIFY_NO_SENDERS, 0, s, MsgType.MOVE_SEND_ONCE)
                .code()).isEqualTo(KernReturn.KERN_INVALID_NAME);
        assertThat(f.ipc.space(A).lookup(s).has(PortRight.SEND_ONCE)).isTrue();
    }

    @Test
    void aDeadNameRequestOnASendOnceNameWithAnotherNotifyRightIsRegistered() {
        int s = sendOnceInA();
        int notify = sendOnceInA();
        assertThat(f.ipc.machPortRequestNotification(A, s, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.space(A).lookup(s).port().deadNameRequests).hasSize(1);
    }
}
