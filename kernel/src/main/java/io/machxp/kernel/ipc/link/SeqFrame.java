package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;

/**
 * A frame the core sent and the seq {@link IpcLinks} numbered it with for its link: written as the
 * frame with its {@code seq} field set ({@link LinkFrameEncoder}), without copying the frame to set it.
 * The core's frames carry no seq of their own (a seq there would be written twice, the link's last).
 */
record SeqFrame(LinkFrame frame, long seq) {}
