package io.machxp.scenario;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The Mach IPC steps of a program, for {@link StepParser}:
 * <pre>
 *  {port_allocate: svc}                a receive right in the thread's task, published: every other
 *                                      task of the scenario gets a send right to it (as from a name
 *                                      server; on another kernel a link latency later)
 *  {send: svc, id: 3}                  a message with id 3 (COPY_SEND; MAKE_SEND by the owner)
 *  {send: reply, id: 4}                to the reply right of the last message this thread received
 *  {receive: svc, id: 3, timeout: 5ms} waits for a message on a port its task allocated; id: the
 *                                      id it must have; timeout: MACH_RCV_TIMEOUT
 *  {rpc: svc, id: 1}                   mach_msg send+receive with the thread's reply port
 *                                      (MAKE_SEND_ONCE): the request donates the thread's priority
 * </pre>
 * Each takes {@code expect} with "ok" or a Mach return code ({@link ScenarioFormat#outcomes}).
 * Port names are the scenario's own; a port nobody allocated is MACH_SEND_INVALID_DEST (send,
 * rpc) or MACH_RCV_INVALID_NAME (receive) when the step runs. IPC steps run in sim mode.
 */
final class IpcStepParser {
    private final ScenarioParser parser;

    IpcStepParser(ScenarioParser parser) {
        this.parser = parser;
    }

    Step step(JsonNode s, Step.Kind kind, String where, String expect) {
        JsonNode arg = s.get(kind.key);
        String port = arg == null || !arg.isTextual() || arg.asText().isBlank() ? null : arg.asText();
        if (port == null) {
            parser.error(parser.tree.line(s, kind.key), where, kind.key + " needs a port's name, like {" + kind.key
                    + ": svc}");
            port = "";
        } else if (port.equals("reply") && kind != Step.Kind.SEND) {
            parser.error(parser.tree.line(s, kind.key), where, "'reply' names the reply right of the last message "
                    + "received: only send takes it, like {send: reply, id: 2}");
        }
        return switch (kind) {
            case SEND, RPC -> new Step(kind, port, -1, parser.integer(s, "id", where, 0), expect);
            case RECEIVE -> new Step(kind, port, parser.duration(s, "timeout", where, -1), 0, expect,
                    s.has("id") ? String.valueOf(parser.integer(s, "id", where, 0)) : null);
            default -> new Step(kind, port, -1, 0, expect);
        };
    }
}
