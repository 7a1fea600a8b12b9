import nodemailer, { type Transporter } from 'nodemailer';
import type { RenderedEmail } from './digest';

export interface Attachment {
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

export interface Mailer {
  /** `messageId` fixes the Message-ID, so a repeated send of the same message can be recognised by the receiver. */
  send(
    message: RenderedEmail & { from: string; to: string[]; attachments?: Attachment[]; messageId?: string },
  ): Promise<{ messageId: string }>;
  close(): void;
}

/** SMTP through nodemailer; the URL (with credentials, if any) comes from BOBSYNC_SMTP_URL. */
export function createMailer(smtpUrl: string): Mailer {
  const transport: Transporter = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      const info = await transport.sendMail({
        from: message.from,
        to: message.to.join(', '),
        subject: message.subject,
        text: message.text,
        html: message.html,
        attachments: message.attachments,
        ...(message.messageId ? { messageId: message.messageId } : {}),
      });
      return { messageId: String(info.messageId) };
    },
    close: () => transport.close(),
  };
}
