package io.machxp.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * A file error as a person reads it: java.nio's exceptions carry only the path as their message
 * ("machxp trace: /nonexistent/x.json" said nothing of why), so the reason is named from the type.
 */
final class FileErrors {
    private FileErrors() {}

    /** "PATH: no such file or directory (does its directory exist?)", and the like; never a class name. */
    static String describe(FileSystemException e) {
        String file = e.getFile() != null ? e.getFile() : "a file";
        return file + (e.getOtherFile() != null ? " (and " + e.getOtherFile() + ")" : "") + ": " + why(e);
    }

    /** Why the file cannot be used, without its path. */
    private static String why(FileSystemException e) {
        return e instanceof NoSuchFileException ? "no such file or directory (does its directory exist?)"
                : e instanceof AccessDeniedException ? "permission denied"
                : e instanceof FileAlreadyExistsException ? "it exists already"
                : e instanceof NotDirectoryException ? "not a directory"
                : e.getReason() != null ? e.getReason() : "cannot be used";
    }

    /**
     * {@code message} with a file error's bare path (or its "java.nio.file.X: path") at its end
     * replaced by {@link #describe}; {@code message} as it is when {@code e} has no such cause.
     */
    static String explain(String message, Throwable e) {
        for (Throwable t = e; t != null && message != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof FileSystemException f && f.getMessage() != null) {
                String bare = f.getMessage();
                if (f.getFile() != null && message.endsWith(f.getFile() + ": " + bare)) { // "cannot open P: P"
                    return message.substring(0, message.length() - bare.length()) + why(f);
                }
                for (String tail : new String[] {f.getClass().getName() + ": " + bare, bare}) {
                    if (message.endsWith(tail)) {
                        return message.substring(0, message.length() - tail.length()) + describe(f);
                    }
                }
            }
        }
        return message;
    }
}
