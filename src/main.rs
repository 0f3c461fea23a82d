fn main() -> std::process::ExitCode {
    sms_tasks::cli::main()
}
