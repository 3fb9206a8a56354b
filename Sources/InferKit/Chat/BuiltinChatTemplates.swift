/// Templates for model files that carry none, by name. Each is Jinja rendered by the same
/// interpreter, and reproduces the prompt llama.cpp's `llama_chat_apply_template` builds for
/// the format of that name (src/llama-chat.cpp), which, like llama.cpp, leaves out the BOS
/// token: the tokenizer adds it.
extension ChatTemplate {
    /// The names `builtin(named:)` knows, in a stable order.
    public static let builtinNames = ["chatml", "llama2", "llama3", "mistral", "phi3", "gemma", "zephyr", "plain", "raw"]

    /// A built-in template:
    /// - `chatml`: `<|im_start|>role\n...<|im_end|>\n` (Qwen, Hermes, many fine-tunes);
    /// - `llama2`: Llama 2 chat, `[INST] <<SYS>>\n...\n<</SYS>>\n\nuser [/INST]answer</s><s>[INST] ...`;
    /// - `llama3`: Llama 3 headers, contents trimmed;
    /// - `mistral`: Mistral's v3 format (Mistral 7B Instruct v0.3), system text before the first user turn;
    /// - `phi3`: `<|role|>\n...<|end|>\n`;
    /// - `gemma`: `<start_of_turn>user|model`, the system message merged into the first user turn;
    /// - `zephyr`: `<|role|>\n...<|endoftext|>\n`;
    /// - `plain`: a "User: ... / Assistant: ..." transcript, for base models without a template;
    /// - `raw`: the message contents concatenated, nothing added.
    public static func builtin(named name: String) throws -> ChatTemplate {
        guard let source = builtinSources[name] else {
            throw InferError.invalidArgument("unknown chat template '\(name)' (built-in templates: \(builtinNames.joined(separator: ", ")))")
        }
        return try ChatTemplate(source: source)
    }

    private static let builtinSources: [String: String] = [
        "chatml": """
            {%- for message in messages -%}
            {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}
            """,
        "llama2": """
            {#- Every turn after the first reopens with BOS, as the Llama 2 chat format does. -#}
            {%- set turn = namespace(open=true) -%}
            {{- '[INST] ' -}}
            {%- for message in messages -%}
            {%- if not turn.open -%}{{- '<s>[INST] ' -}}{%- set turn.open = true -%}{%- endif -%}
            {%- if message.role == 'system' -%}{{- '<<SYS>>\\n' + message.content + '\\n<</SYS>>\\n\\n' -}}
            {%- elif message.role == 'user' -%}{{- message.content + ' [/INST]' -}}
            {%- else -%}{{- message.content + '</s>' -}}{%- set turn.open = false -%}
            {%- endif -%}
            {%- endfor -%}
            """,
        "llama3": """
            {%- for message in messages -%}
            {{- '<|start_header_id|>' + message.role + '<|end_header_id|>\\n\\n' + message.content | trim + '<|eot_id|>' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}
            """,
        "mistral": """
            {%- set turn = namespace(open=false) -%}
            {%- for message in messages -%}
            {%- if not turn.open -%}{{- '[INST] ' -}}{%- set turn.open = true -%}{%- endif -%}
            {%- if message.role == 'system' -%}{{- message.content + '\\n\\n' -}}
            {%- elif message.role == 'user' -%}{{- message.content + '[/INST]' -}}
            {%- else -%}{{- ' ' + message.content | trim + '</s>' -}}{%- set turn.open = false -%}
            {%- endif -%}
            {%- endfor -%}
            """,
        "phi3": """
            {%- for message in messages -%}
            {{- '<|' + message.role + '|>\\n' + message.content + '<|end|>\\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}
            """,
        "gemma": """
            {#- Gemma has no system role: the system text opens the next user turn. -#}
            {%- set pending = namespace(system='') -%}
            {%- for message in messages -%}
            {%- if message.role == 'system' -%}{%- set pending.system = pending.system + message.content | trim -%}
            {%- else -%}
            {%- set role = 'model' if message.role == 'assistant' else message.role -%}
            {{- '<start_of_turn>' + role + '\\n' -}}
            {%- if pending.system and role != 'model' -%}{{- pending.system + '\\n\\n' -}}{%- set pending.system = '' -%}{%- endif -%}
            {{- message.content | trim + '<end_of_turn>\\n' -}}
            {%- endif -%}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}
            """,
        "zephyr": """
            {%- for message in messages -%}
            {{- '<|' + message.role + '|>\\n' + message.content + '<|endoftext|>\\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}
            """,
        "plain": """
            {%- for message in messages -%}
            {%- if message.role == 'system' -%}{{- message.content + '\\n\\n' -}}
            {%- else -%}{{- message.role | capitalize + ': ' + message.content + '\\n' -}}
            {%- endif -%}
            {%- endfor -%}
            {%- if add_generation_prompt -%}{{- 'Assistant:' -}}{%- endif -%}
            """,
        "raw": """
            {%- for message in messages -%}{{- message.content -}}{%- endfor -%}
            """,
    ]
}
