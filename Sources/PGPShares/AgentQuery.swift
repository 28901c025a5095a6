internal import CGPGME
import Foundation

/// One Assuan command to the running gpg-agent (its socket under GNUPGHOME; the agent is not
/// started for it): what `gpg-connect-agent` does, for questions that change nothing.
enum AgentQuery {
    /// The agent's reply: its error code (0: OK), its data lines joined, its status lines.
    struct Reply {
        var code: UInt32 = 0
        var data = ""
        var status: [(keyword: String, args: String)] = []
    }

    /// Sends `command`; nil when no agent could be reached.
    static func send(_ command: String) -> Reply? {
        _ = PGPShares.initialised
        guard let socket = gpgme_get_dirinfo("agent-socket") else { return nil }
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { return nil }
        defer { gpgme_release(ctx) }
        guard gpgme_set_protocol(ctx, GPGME_PROTOCOL_ASSUAN) == 0,
            gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_ASSUAN, socket, nil) == 0
        else { return nil }
        let box = ReplyBox()
        var operationError: gpgme_error_t = 0
        let opaque = Unmanaged.passUnretained(box).toOpaque()
        let err = withExtendedLifetime(box) {
            gpgme_op_assuan_transact_ext(
                ctx, command,
                { opaque, data, length in
                    guard let opaque, let data else { return 0 }
                    let box = Unmanaged<ReplyBox>.fromOpaque(opaque).takeUnretainedValue()
                    box.reply.data += String(
                        decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                    return 0
                }, opaque, nil, nil,
                { opaque, keyword, args in
                    guard let opaque, let keyword else { return 0 }
                    let box = Unmanaged<ReplyBox>.fromOpaque(opaque).takeUnretainedValue()
                    box.reply.status.append((String(cString: keyword), args.map { String(cString: $0) } ?? ""))
                    return 0
                }, opaque, &operationError)
        }
        guard err == 0 else { return nil }
        box.reply.code = kt_gpgme_err_code(operationError)
        return box.reply
    }
}

private final class ReplyBox {
    var reply = AgentQuery.Reply()
}

extension PGPShares {
    /// The running gpg-agent's version (`GETINFO version`); nil when none is running.
    package static func agentVersion() -> String? {
        guard let reply = AgentQuery.send("GETINFO version"), reply.code == 0, !reply.data.isEmpty else { return nil }
        return reply.data
    }
}
