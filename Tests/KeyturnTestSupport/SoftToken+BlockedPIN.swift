import Foundation

/// SoftHSM2 has no PIN retry counter, so a real token whose PIN is blocked cannot be made with it,
/// nor can a test see how often a PIN was tried. These put a PKCS#11 module between
/// gnupg-pkcs11-scd and SoftHSM2 that forwards every call but `C_Login`: one answers it with
/// `CKR_PIN_LOCKED`, which is what a YubiKey's PKCS#11 module answers once its PIN is blocked;
/// the other counts it and passes it on. Everything else is real: gpg-agent, gnupg-pkcs11-scd
/// (which maps CKR_PIN_LOCKED to GnuPG's "PIN blocked", as `gpg -d` prints) and the token's key.
extension SoftToken {
    /// The token behaves as if its user PIN were blocked, until `unblockPIN()`.
    public func blockPIN() throws {
        try useShim("pin-blocked", login: "return 0xA4; /* CKR_PIN_LOCKED */")
    }

    /// The token's PIN works again (and logins are no longer counted).
    public func unblockPIN() throws { try useProvider(Self.module) }

    /// From now on every `C_Login` that reaches the token (each PIN tried) appends a line to the
    /// file returned, until `unblockPIN()`: a YubiKey blocks its PIN after three.
    public func countLogins() throws -> String {
        let count = directory.file("logins")
        try? FileManager.default.removeItem(atPath: count)
        try useShim(
            "pin-counted",
            login: """
                FILE *f = fopen("\(count)", "a");
                if (f) { fputs("login\\n", f); fclose(f); }
                return realLogin(session, user, pin, length);
                """)
        return count
    }

    /// Builds (once) and uses the module `name`.so whose C_Login runs `login` (C, with the
    /// arguments `session`, `user`, `pin`, `length`, and SoftHSM2's own as `realLogin`).
    private func useShim(_ name: String, login: String) throws {
        let module = directory.file("\(name).so")
        if !FileManager.default.fileExists(atPath: module) {
            let source = try directory.write("\(name).c", text: Self.shim(login: login))
            guard let compiler = Processes.which("cc") ?? Processes.which("clang") else {
                throw HarnessError("no C compiler (cc or clang) on PATH to build the PKCS#11 module \(name)")
            }
            let r = try Processes.run(compiler, ["-shared", "-fPIC", "-o", module, source, "-ldl"])
            guard r.status == 0 else { throw HarnessError("building the PKCS#11 module \(name) failed: \(r.stderr)") }
        }
        try useProvider(module)
    }

    private func useProvider(_ library: String) throws {
        _ = try gpg.home.write("gnupg-pkcs11-scd.conf", text: "providers p1\nprovider-p1-library \(library)\n")
        stopAgent()
    }

    /// CK_FUNCTION_LIST of PKCS#11 2.40: a version, then 68 function pointers; C_Login is the 19th.
    private static func shim(login: String) -> String {
        """
        #include <dlfcn.h>
        #include <stdio.h>
        typedef unsigned long CK_RV;
        typedef CK_RV (*Function)(void);
        typedef CK_RV (*Login)(unsigned long, unsigned long, unsigned char *, unsigned long);
        typedef struct { unsigned char major, minor; } Version;
        typedef struct { Version version; Function functions[68]; } FunctionList;
        static FunctionList shimmed;
        static Login realLogin;
        static CK_RV shimLogin(unsigned long session, unsigned long user, unsigned char *pin, unsigned long length) {
            \(login)
        }
        CK_RV C_GetFunctionList(FunctionList **list) {
            void *module = dlopen("\(module)", RTLD_NOW);
            if (!module) return 5; /* CKR_GENERAL_ERROR */
            CK_RV (*get)(FunctionList **) = (CK_RV (*)(FunctionList **))dlsym(module, "C_GetFunctionList");
            FunctionList *real;
            CK_RV rv = get ? get(&real) : 5;
            if (rv != 0) return rv;
            shimmed = *real;
            realLogin = (Login)real->functions[18];
            shimmed.functions[18] = (Function)shimLogin; /* C_Login */
            *list = &shimmed;
            return 0;
        }

        """
    }
}
