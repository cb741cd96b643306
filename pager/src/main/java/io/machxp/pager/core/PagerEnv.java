package io.machxp.pager.core;

import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;

/** Everything the pager core does to the world. Called on the pager core thread. */
public interface PagerEnv {
    /** Sends one XP message on a session's stream. */
    void send(long sessionId, PagerToKernel message);

    /** Ends a session's stream with an error; the core has already forgotten the session. */
    void endSession(long sessionId, Errno errno, String message);
}
