package io.machxp.demo.ipc;

import io.machxp.client.KernelClient;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgType;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The name server of the IPC demo: tasks register a send right under a name (REGISTER, the right
 * moves into the name server's space) and look names up (LOOKUP, the answer carries a copy of the
 * right to the asker, on whatever kernel it runs). Its protocol:
 * <pre>
 *  REGISTER 100: [name bytes, send right]          no reply
 *  LOOKUP   101: [name bytes], reply send-once  -> 201: [send right] (or [] if unknown)
 * </pre>
 */
final class NameServer extends ServerTask {
    static final int REGISTER = 100;
    static final int LOOKUP = 101;
    static final int LOOKUP_REPLY = 201;

    /** Registered names -> the send right's name in the name server's space. */
    private final Map<String, Integer> names = new ConcurrentHashMap<>();

    NameServer(KernelClient kernel, Consumer<String> log) {
        super(kernel, "name-server", log);
    }

    /** A REGISTER message: {@code right} (named in the sender's space, with {@code disposition}) under {@code name}. */
    static MachMessage register(int nameServer, String name, int right, MsgType disposition) {
        return MachMessage.to(nameServer, MsgType.COPY_SEND, REGISTER)
                .withBody(new MsgItem.Inline(name.getBytes(StandardCharsets.UTF_8)), new MsgItem.Port(right, disposition));
    }

    /** A LOOKUP message, answered on {@code reply}. */
    static MachMessage lookup(int nameServer, String name, int reply) {
        return MachMessage.to(nameServer, MsgType.COPY_SEND, LOOKUP).withReply(reply, MsgType.MAKE_SEND_ONCE)
                .withBody(new MsgItem.Inline(name.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    void handle(MachMessage m) {
        String name = new String(((MsgItem.Inline) m.body().get(0)).data(), StandardCharsets.UTF_8);
        if (m.id() == REGISTER) {
            int right = ((MsgItem.Port) m.body().get(1)).name();
            names.put(name, right);
            log(String.format(Locale.ROOT, "name-server: '%s' registered; its send right is 0x%x in my space", name, right));
        } else if (m.id() == LOOKUP) {
            Integer right = names.get(name);
            MachMessage answer = MachMessage.to(m.remotePort(), MsgType.MOVE_SEND_ONCE, LOOKUP_REPLY);
            if (right != null) {
                answer = answer.withBody(new MsgItem.Port(right, MsgType.COPY_SEND));
            }
            sender.machMsg(answer, Mach.MACH_SEND_MSG, 0, 0, 0);
            log(String.format(Locale.ROOT, "name-server: lookup '%s' -> %s", name, right == null ? "unknown"
                    : "a copy of the send right, to the asker"));
        }
    }
}
