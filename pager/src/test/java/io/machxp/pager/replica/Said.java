package io.machxp.pager.replica;

import io.machxp.proto.task.Errno;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;

/**
 * A replica core's outlet for tests that compare replicas: what the core said, in order, one line
 * each ("SESSION ROUTINE" for a send, "SESSION ERRNO MESSAGE" for an end), so that two replicas fed
 * the same log can be checked to say the same.
 */
final class Said implements ReplicaCore.Outlet {
    final List<String> said = new ArrayList<>();
    /** The welcomes sent, whole (their disputes, xp-spec 2.8). */
    final List<io.machxp.proto.xp.PagerWelcome> welcomes = new ArrayList<>();

    @Override
    public void send(long sessionId, PagerToKernel message) {
        said.add(sessionId + " " + message.getRoutineCase());
        if (message.hasPagerWelcome()) {
            welcomes.add(message.getPagerWelcome());
        }
    }

    @Override
    public void endSession(long sessionId, Errno errno, String message) {
        said.add(sessionId + " " + errno + " " + message);
    }

    @Override
    public void endSession(long sessionId, XpProtocolError error, String message) {
        said.add(sessionId + " " + error + " " + message);
    }
}
