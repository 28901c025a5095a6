import Foundation

/// SoftHSM2 has no PIN retry counter, so a real token whose PIN is blocked cannot be made with it.
/// This puts a PKCS#11 module between gnupg-pkcs11-scd and SoftHSM2 that forwards every call and
/// answers `C_Login` with `CKR_PIN_LOCKED`, which is what a YubiKey's PKCS#11 module answers once
/// its PIN is blocked. Everything else is real: gpg-agent, gnupg-pkcs11-scd (which maps it to GnuPG's
/// "PIN blocked", as `gpg -d` prints) and the token's key.
extension SoftToken {
    /// The token behaves as if its user PIN were blocked, until `unblockPIN()`.
    public func blockPIN() throws {
        let source = directory.file("pin-blocked.c")
        let module = directory.file("pin-blocked.so")
        if !FileManager.default.fileExists(atPath: module) {
            _ = try directory.write("pin-blocked.c", text: Self.pinBlockedModule)
            guard let compiler = Processes.which("cc") ?? Processes.which("clang") else {
                throw HarnessError("no C compiler (cc or clang) on PATH to build the blocked-PIN module")
            }
            let r = try Processes.run(compiler, ["-shared", "-fPIC", "-o", module, source, "-ldl"])
            guard r.status == 0 else { throw HarnessError("building the blocked-PIN module failed: \(r.stderr)") }
        }
        try useProvider(module)
    }

    /// The token's PIN works again (and logins are no longer counted).
    public func unblockPIN() throws { try useProvider(Self.module) }

    /// From now on every `C_Login` that reaches the token (each PIN tried) appends a line to
    /// the file returned, through a module that forwards every call to SoftHSM2; until
    /// `unblockPIN()`. SoftHSM2 keeps no retry counter, so this is how a test sees how often a
    /// PIN was tried: a YubiKey blocks its PIN after three.
    public func countLogins() throws -> String {
        let count = directory.file("logins")
        let source = directory.file("pin-counted.c")
        let module = directory.file("pin-counted.so")
        if !FileManager.default.fileExists(atPath: module) {
            _ = try directory.write("pin-counted.c", text: Self.loginCountingModule(count))
            guard let compiler = Processes.which("cc") ?? Processes.which("clang") else {
                throw HarnessError("no C compiler (cc or clang) on PATH to build the login-counting module")
            }
            let r = try Processes.run(compiler, ["-shared", "-fPIC", "-o", module, source, "-ldl"])
            guard r.status == 0 else { throw HarnessError("building the login-counting module failed: \(r.stderr)") }
        }
        try? FileManager.default.removeItem(atPath: count)
        try useProvider(module)
        return count
    }

    /// Forwards every call; C_Login (the 19th function) appends "login" to `count` first.
    private static func loginCountingModule(_ count: String) -> String {
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
        static CK_RV countedLogin(unsigned long session, unsigned long user, unsigned char *pin, unsigned long n) {
            FILE *f = fopen("\(count)", "a");
            if (f) { fputs("login\\n", f); fclose(f); }
            return realLogin(session, user, pin, n);
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
            shimmed.functions[18] = (Function)countedLogin; /* C_Login */
            *list = &shimmed;
            return 0;
        }

        """
    }

    private func useProvider(_ library: String) throws {
        _ = try gpg.home.write("gnupg-pkcs11-scd.conf", text: "providers p1\nprovider-p1-library \(library)\n")
        stopAgent()
    }

    /// CK_FUNCTION_LIST of PKCS#11 2.40: a version, then 68 function pointers; C_Login is the 19th.
    private static let pinBlockedModule = """
        #include <dlfcn.h>
        typedef unsigned long CK_RV;
        typedef CK_RV (*Function)(void);
        typedef struct { unsigned char major, minor; } Version;
        typedef struct { Version version; Function functions[68]; } FunctionList;
        static FunctionList shimmed;
        static CK_RV pinLocked(void) { return 0xA4; /* CKR_PIN_LOCKED */ }
        CK_RV C_GetFunctionList(FunctionList **list) {
            void *module = dlopen("\(module)", RTLD_NOW);
            if (!module) return 5; /* CKR_GENERAL_ERROR */
            CK_RV (*get)(FunctionList **) = (CK_RV (*)(FunctionList **))dlsym(module, "C_GetFunctionList");
            FunctionList *real;
            CK_RV rv = get ? get(&real) : 5;
            if (rv != 0) return rv;
            shimmed = *real;
            shimmed.functions[18] = pinLocked; /* C_Login */
            *list = &shimmed;
            return 0;
        }

        """
}
