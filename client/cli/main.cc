// hartonomous: the command-line client of hartonomousd. See `hartonomous help`.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli_args.h"
#include "cli_errors.h"
#include "commands.h"
#include "help.h"

int main(int argc, char** argv) {
  namespace cli = hartonomous::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const cli::Invocation invocation =
        cli::ParseArgs(args, cli::Commands(), std::getenv("HARTONOMOUS_SERVER"));
    if (invocation.global.version) {
      std::cout << cli::VersionText() << '\n';
    } else if (invocation.global.help) {
      std::cout << (invocation.command != nullptr ? cli::CommandHelp(*invocation.command)
                                                  : cli::UsageText(cli::Commands()));
    } else if (invocation.command == nullptr) {
      std::cerr << cli::UsageText(cli::Commands());
      return cli::kExitUsage;
    } else {
      invocation.command->run(invocation);
    }
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "error: cannot write to standard output\n";
      return cli::kExitFailure;
    }
    return cli::kExitOk;
  } catch (const cli::UsageError& e) {
    std::cerr << "hartonomous: " << e.what() << "\nRun 'hartonomous help' for usage.\n";
    return cli::kExitUsage;
  } catch (const cli::Interrupted& e) {
    std::cerr << "interrupted: " << e.what() << '\n';
    return cli::kExitInterrupted;
  } catch (const cli::Failure& e) {
    std::cerr << "error: " << e.what() << '\n';
    return cli::kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return cli::kExitFailure;
  }
}
