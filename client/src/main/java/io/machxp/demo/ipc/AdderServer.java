package io.machxp.demo.ipc;

import io.machxp.client.KernelClient;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgType;
import java.util.function.Consumer;

/**
 * The RPC server of the IPC demo: ADD 300 [a, b] with a send-once reply right is answered
 * 400 [a + b] through that right (the Mach RPC idiom: the client sends and receives in one
 * mach_msg).
 */
final class AdderServer extends ServerTask {
    static final int ADD = 300;
    static final int ADD_REPLY = 400;

    AdderServer(KernelClient kernel, Consumer<String> log) {
        super(kernel, "adder", log);
    }

    @Override
    void handle(MachMessage m) {
        int sum = m.intItem(0) + m.intItem(1);
        sender.machMsg(MachMessage.to(m.remotePort(), MsgType.MOVE_SEND_ONCE, ADD_REPLY)
                .withBody(MachMessage.int32(sum)), Mach.MACH_SEND_MSG, 0, 0, 0);
    }
}
